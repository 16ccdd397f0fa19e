// The side panels and dialogs of the room page, as one lazily loaded chunk: settings, known rooms,
// keyboard help, and what goes with them (chat image encoding, the WebRTC debug lines). Not the
// chat: Ctrl+Enter must put the caret in its field at once, or the first keys typed would land on
// whatever button had focus (a space would press it).
// One chunk rather than one per panel: each would share small modules with the others, and
// esbuild would cut those into more, smaller files, each compressed on its own (measured: 17
// initial files and 1.1 KB more gzip than grouping).
export * as settings from "../components/mm-settings.js";
export * as knownRooms from "../components/mm-watches.js";
export * as help from "../components/mm-help.js";
export * as imageEncoder from "../chat/encode-image.js";
// Also loaded by the chat on its own when it first shows an image; here so that idle time fetches it.
export * as imageChecker from "../chat/incoming-image.js";
export * as debugStats from "./debug-stats.js";
