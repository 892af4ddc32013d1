import { deleteRunFolder } from "./run-folder";

export default deleteRunFolder;
