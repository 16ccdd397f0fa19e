// File sharing as one lazily loaded chunk: the transfers (sending, receiving, resuming), the
// streaming download sink and the hashing worker's client. Loaded when a file is shared, offered
// to us or downloaded, and preloaded when the page is idle.
import "../components/mm-transfer.js";
export { FileTransfers } from "./file-transfers.js";
export { WorkerSha256 } from "../hashing/worker-sha256.js";
export { isDownloadNavigation } from "../files/download-sink.js";
