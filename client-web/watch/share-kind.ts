// The resource kind of a watch-together share in provide packets. Its own module: the room page
// names shares in its announcements before the watch-together code (a lazily loaded chunk) loads.
export const SHARE_KIND = "jellyfin";
