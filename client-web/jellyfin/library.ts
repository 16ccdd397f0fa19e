// What the Jellyfin panel shows, in its own words: a signed-in library to browse (views → items,
// series → seasons → episodes, search), an item's tracks to pick, and posters as blob: URLs (the
// page's CSP allows no cross-origin images, and a token must not sit in an <img> URL).

import { err, ok, type Result } from "../../common/result.js";
import type { JellyfinClient, JellyfinError, JellyfinItem } from "./client.js";

export interface LibraryEntry {
  readonly id: string;
  readonly name: string;
  /** Jellyfin's item type: CollectionFolder, Movie, Series, Season, Episode, Video, … */
  readonly type: string;
  readonly year: number | undefined;
  readonly durationS: number | undefined;
  /** Folders, series and seasons open; movies, episodes and videos can be shared. */
  readonly playable: boolean;
  /** "S1E2" style for episodes. */
  readonly detail: string | undefined;
}

export interface TrackChoice {
  readonly index: number;
  readonly label: string;
}

export interface ItemDetails extends LibraryEntry {
  readonly mediaSourceId: string;
  readonly audio: readonly TrackChoice[];
  readonly defaultAudio: number | undefined;
  /** Text subtitles only: they travel as WebVTT renditions (others would need burning in). */
  readonly subtitles: readonly TrackChoice[];
  readonly defaultSubtitle: number | undefined;
}

const TICKS_PER_SECOND = 10_000_000;
const PLAYABLE = new Set(["Movie", "Episode", "Video", "MusicVideo"]);
const SEARCH_TYPES = ["Movie", "Series", "Episode", "Video"];
const BROWSE_TYPES = ["Movie", "Series", "Video"];
const PAGE_SIZE = 200;

function describe(error: JellyfinError): string {
  return error.message;
}

export function toEntry(item: JellyfinItem): LibraryEntry {
  const episode =
    item.Type === "Episode" && item.IndexNumber !== undefined
      ? `${item.ParentIndexNumber !== undefined ? `S${item.ParentIndexNumber}` : ""}E${item.IndexNumber}`
      : undefined;
  return {
    id: item.Id,
    name: item.Name ?? "Untitled",
    type: item.Type ?? "Unknown",
    year: item.ProductionYear ?? undefined,
    durationS: item.RunTimeTicks ? item.RunTimeTicks / TICKS_PER_SECOND : undefined,
    playable: PLAYABLE.has(item.Type ?? ""),
    detail: episode,
  };
}

export class JellyfinLibrary {
  private readonly posters = new Map<string, Promise<string | undefined>>();

  constructor(
    readonly client: JellyfinClient,
    readonly serverUrl: string,
    readonly userName: string,
  ) {}

  async views(): Promise<Result<LibraryEntry[], string>> {
    const views = await this.client.views();
    return views.ok ? ok(views.value.map(toEntry)) : err(describe(views.error));
  }

  /** What opening `entry` shows: a view's items, a series' seasons, a season's episodes. */
  async open(entry: LibraryEntry, seriesId?: string): Promise<Result<LibraryEntry[], string>> {
    const result =
      entry.type === "Series"
        ? await this.client.seasons(entry.id)
        : entry.type === "Season" && seriesId
          ? await this.client.episodes(seriesId, entry.id)
          : await this.client.items({ parentId: entry.id, includeItemTypes: BROWSE_TYPES, recursive: true, limit: PAGE_SIZE });
    return result.ok ? ok(result.value.map(toEntry)) : err(describe(result.error));
  }

  async search(term: string): Promise<Result<LibraryEntry[], string>> {
    const result = await this.client.items({ searchTerm: term, includeItemTypes: SEARCH_TYPES, recursive: true, limit: 50 });
    return result.ok ? ok(result.value.map(toEntry)) : err(describe(result.error));
  }

  async details(id: string): Promise<Result<ItemDetails, string>> {
    const result = await this.client.item(id);
    if (!result.ok) return err(describe(result.error));
    const item = result.value;
    const source = item.MediaSources?.[0];
    if (!source) return err("this item has nothing to play");
    const streams = source.MediaStreams ?? [];
    const label = (s: { DisplayTitle?: string | undefined; Language?: string | undefined; Index: number }) => s.DisplayTitle ?? s.Language ?? `Track ${s.Index}`;
    return ok({
      ...toEntry(item),
      mediaSourceId: source.Id,
      audio: streams.filter((s) => s.Type === "Audio").map((s) => ({ index: s.Index, label: label(s) })),
      defaultAudio: source.DefaultAudioStreamIndex ?? undefined,
      subtitles: streams.filter((s) => s.Type === "Subtitle" && s.IsTextSubtitleStream === true).map((s) => ({ index: s.Index, label: label(s) })),
      defaultSubtitle: source.DefaultSubtitleStreamIndex ?? undefined,
    });
  }

  /** A blob: URL of the item's poster, fetched once; undefined if there is none. */
  poster(id: string): Promise<string | undefined> {
    let poster = this.posters.get(id);
    if (!poster) {
      poster = this.client.fetchMedia(this.client.imageUrl(id, { width: 160, height: 240 })).then((result) =>
        result.ok ? URL.createObjectURL(new Blob([result.value.bytes], { type: result.value.contentType })) : undefined,
      );
      this.posters.set(id, poster);
    }
    return poster;
  }

  /** Frees the posters' memory (sign-out, panel closed for good). */
  dispose(): void {
    for (const poster of this.posters.values()) void poster.then((url) => url && URL.revokeObjectURL(url));
    this.posters.clear();
  }
}
