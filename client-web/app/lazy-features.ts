// The room's bigger features, as one lazily loaded chunk: file sharing, watch-together and the
// Jellyfin panel (which shares through watch-together). Grouped for the reason lazy-panels.ts
// gives.
export * as files from "./files-feature.js";
export * as watch from "./watch-feature.js";
export * as jellyfin from "./jellyfin-panel.js";
