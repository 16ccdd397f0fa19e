// Watch-together as one lazily loaded chunk: sharing a Jellyfin video, following someone's share,
// and the view it plays in. Loaded when a share is started or joined, preloaded when idle.
import "../components/mm-watching.js";
export { WatchTogether } from "./watch-together.js";
