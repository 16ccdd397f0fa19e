// A man in the middle for tests: a WebSocket proxy in front of a real relay that knows the room
// secret, opens every sealed message on its way to a client, lets the test rewrite it, and seals
// it again under the same sender and replay stamp. It is the relay operator of the threat model
// who has learned a room's secret. Listens on loopback only.

import { WebSocket, WebSocketServer, type RawData } from "ws";
import { openRelayMessage, sealRelayMessage } from "../../common/crypto/sealed-relay.js";
import { encodeClientbound } from "../../common/wire/encode.js";
import type { ClientId, RelayMessage } from "../../common/wire/packets.js";
import { parseClientbound } from "../../common/wire/parse.js";

export type Rewrite = (message: RelayMessage, sender: ClientId) => RelayMessage | Promise<RelayMessage>;

export interface RewritingRelay {
  /** ws://127.0.0.1:<port>/signaling */
  readonly url: string;
  close(): Promise<void>;
}

export async function startRewritingRelay(upstreamUrl: string, key: CryptoKey, rewrite: Rewrite): Promise<RewritingRelay> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  server.on("connection", (client) => {
    const upstream = new WebSocket(upstreamUrl);
    const early: RawData[] = [];
    // Frames to the client go one at a time, in order, whatever each rewrite costs.
    let toClient = Promise.resolve();
    client.on("message", (data) => (upstream.readyState === WebSocket.OPEN ? upstream.send(data.toString()) : early.push(data)));
    upstream.on("open", () => {
      for (const data of early.splice(0)) upstream.send(data.toString());
    });
    upstream.on("message", (data) => {
      const text = data.toString();
      toClient = toClient.then(async () => {
        const out = await rewriteFrame(text, key, rewrite);
        if (client.readyState === WebSocket.OPEN) client.send(out);
      });
    });
    upstream.on("close", () => client.close());
    client.on("close", () => upstream.close());
    upstream.on("error", () => client.close());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}/signaling`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

async function rewriteFrame(text: string, key: CryptoKey, rewrite: Rewrite): Promise<string> {
  const packet = parseClientbound(text);
  if (!packet.ok || packet.value.type !== "message") return text;
  const { sender, message: sealed } = packet.value;
  const opened = await openRelayMessage(key, sender, sealed);
  if (!opened.ok || opened.value.messages.length !== 1) return text;
  const [message] = opened.value.messages;
  if (!message) return text;
  const resealed = await sealRelayMessage(key, sender, await rewrite(message, sender), opened.value.order);
  return encodeClientbound({ type: "message", sender, message: resealed });
}
