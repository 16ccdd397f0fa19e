import { describe, expect, it } from "vitest";
import type { ChatEntry } from "../components/mm-chat.js";
import { boundChatHistory, DROPPED_IMAGE_NOTE } from "./chat-history.js";

const image = (id: string, chars: number): ChatEntry => ({ id, from: "p1", authorName: "ana", at: 0, content: { image: `data:image/png;base64,${"A".repeat(chars - 22)}` } });
const text = (id: string): ChatEntry => ({ id, from: "p1", authorName: "ana", at: 0, content: { text: id } });

describe("boundChatHistory", () => {
  it("keeps everything that fits", () => {
    const entries = [image("a", 100), text("b"), image("c", 100)];
    expect(boundChatHistory(entries, 200)).toEqual(entries);
  });

  it("replaces the oldest images by a note until the rest fit, keeping every line and the texts", () => {
    const entries = [image("a", 100), text("b"), image("c", 100), image("d", 100)];
    const bounded = boundChatHistory(entries, 150);
    expect(bounded.map((e) => e.id)).toEqual(["a", "b", "c", "d"]);
    expect(bounded.map((e) => ("text" in e.content ? e.content.text : "image"))).toEqual([DROPPED_IMAGE_NOTE, "b", DROPPED_IMAGE_NOTE, "image"]);
  });
});
