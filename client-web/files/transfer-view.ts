// What the interface shows of one file transfer (either direction). Produced by the app's
// transfer manager from the engine's sender/receiver events; components only render it.

import type { PeerKey } from "../../common/engine/room.js";

export type TransferPhase =
  | "opening" // asked for / preparing where to save
  | "transferring"
  | "interrupted" // the connection dropped; resuming
  | "done"
  | "failed"
  | "cancelled";

export interface TransferView {
  /** Unique per transfer attempt chain (resumes keep it). */
  readonly id: string;
  readonly direction: "in" | "out";
  readonly peer: PeerKey;
  readonly resourceId: string;
  readonly name: string;
  readonly size: number;
  readonly bytes: number;
  readonly phase: TransferPhase;
  /** Bytes per second over the last few seconds; undefined before there is a rate. */
  readonly rate: number | undefined;
  /** Downloads only: whether the SHA-256 the sender computed matched (undefined: not known). */
  readonly verified: boolean | undefined;
  /** Why it failed or was cancelled, in words for the user. */
  readonly message: string | undefined;
}

/** Binary units, one decimal: "1.5 MiB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function formatRate(bytesPerSecond: number): string {
  if (bytesPerSecond >= 1024 * 1024) return `${(bytesPerSecond / (1024 * 1024)).toFixed(1)} MiB/s`;
  if (bytesPerSecond >= 1024) return `${Math.round(bytesPerSecond / 1024)} KiB/s`;
  return `${Math.round(bytesPerSecond)} B/s`;
}
