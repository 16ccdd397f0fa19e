// The side panels and dialogs of the room page, as one lazily loaded chunk (grouped for the reason
// lazy-features.ts gives): settings, known rooms, keyboard help, and what goes with them (chat
// image encoding and checking, the WebRTC debug lines). Not the chat: Ctrl+Enter must put the
// caret in its field at once, or the first keys typed would land on whatever button had focus (a
// space would press it).
import "../components/mm-settings.js";
import "../components/mm-watches.js";
import "../components/mm-help.js";
// The chat loads its image check itself with the first image; here so that idle time fetches it.
import "../chat/incoming-image.js";
export { describeImageEncodeError, encodeChatImage } from "../chat/encode-image.js";
export { StatsSampler } from "./debug-stats.js";
