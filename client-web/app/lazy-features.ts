// The room's bigger features, as one lazily loaded chunk: file sharing (transfers, the streaming
// download sink, the hashing worker's client, the transfer rows of the tiles), watch-together
// (its stage view) and the Jellyfin panel, which shares through watch-together. Loaded when a file
// is shared, offered or downloaded, a share started or joined, or the panel opened; preloaded when
// the page is idle. One chunk rather than one per feature: each would share small modules with
// the others, and esbuild would cut those into more, smaller files, each compressed on its own
// (measured: 17 initial files and 1.1 KB more gzip than grouping).
import "../components/mm-transfer.js";
import "../components/mm-watching.js";
export { FileTransfers } from "./file-transfers.js";
export { WorkerSha256 } from "../hashing/worker-sha256.js";
export { isDownloadNavigation } from "../files/download-sink.js";
export { WatchTogether } from "./watch-together.js";
export { JellyfinAccount, performJellyfinIntent } from "./jellyfin-panel.js";
