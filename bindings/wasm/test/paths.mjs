import { fileURLToPath } from "node:url";
export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
