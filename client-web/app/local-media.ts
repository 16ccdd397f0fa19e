// What we share: captures camera/microphone/screen, offers each through the room, sends previews
// of video while it is shared, and releases the device when sharing stops — by our button, by
// the browser's own "stop sharing" bar, or by leaving. Knows the room's intent methods only.

import type { LocalResource, Room } from "../../common/engine/room.js";
import type { PrefValues } from "../../common/prefs/schema.js";
import { err, ok, type Result } from "../../common/result.js";
import { captureCamera, captureMicrophone, captureScreen, stopMedia, watchEnded, type CaptureError } from "../media/capture.js";
import { startPreviews } from "../media/preview-sender.js";

export type MediaKind = "microphone" | "camera" | "screen";

interface Shared {
  readonly resource: LocalResource;
  readonly stop: () => void;
}

export class LocalMedia {
  private readonly shared = new Map<string, Shared>();

  constructor(
    private readonly room: Room,
    private readonly prefs: () => PrefValues,
    private readonly onChange: () => void,
  ) {}

  get resources(): LocalResource[] {
    return [...this.shared.values()].map((s) => s.resource);
  }

  get count(): number {
    return this.shared.size;
  }

  async add(kind: MediaKind): Promise<Result<LocalResource, CaptureError>> {
    const prefs = this.prefs();
    const captured = await (kind === "camera" ? captureCamera(prefs) : kind === "microphone" ? captureMicrophone(prefs) : captureScreen(prefs));
    if (!captured.ok) return err(captured.error);
    const { stream, info } = captured.value;
    const resource: LocalResource = { info, stream };
    const stopPreviews =
      info.trackKind === "video" && prefs.send_previews
        ? startPreviews(
            stream,
            { resolution: prefs.preview_resolution ?? 256, rate: prefs.preview_rate ?? 8, quality: prefs.preview_encoding_quality ?? 80 },
            (data) => this.room.sendPreview(info.id, data),
          )
        : () => {};
    const unwatch = watchEnded(stream, () => this.stop(info.id));
    this.shared.set(info.id, {
      resource,
      stop: () => {
        unwatch();
        stopPreviews();
        stopMedia(stream);
      },
    });
    this.room.provide(resource);
    this.onChange();
    return ok(resource);
  }

  /** Withdraws one resource everywhere and releases its device (the recording indicator goes off). */
  stop(id: string): void {
    const entry = this.shared.get(id);
    if (!entry) return;
    this.shared.delete(id);
    this.room.stopProviding(id);
    entry.stop();
    this.onChange();
  }

  stopAll(): void {
    for (const id of [...this.shared.keys()]) this.stop(id);
  }
}
