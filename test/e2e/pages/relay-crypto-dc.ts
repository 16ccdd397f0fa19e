// Test page for relay-crypto-dc.e2e.test.ts: uses common/ as a browser would — derive the room
// secrets, join through the relay, exchange a sealed chat message, then open a WebRTC data channel
// signaled through sealed offer/answer/ice_candidate messages. Deliberately not the product's
// engine (that is issue 3's peer session): this checks the foundation on its own.

import "../../../client-web/trusted-types.js";
import { deriveRoomSecrets } from "../../../common/crypto/room-crypto.js";
import { SignalingClient } from "../../../common/engine/signaling.js";
import type { ClientId, RelayMessage } from "../../../common/wire/packets.js";

interface TestApi {
  join(secret: string): Promise<{ ownId: ClientId; hash: string }>;
  waitForPeer(): Promise<ClientId>;
  sendChat(text: string): Promise<void>;
  nextChat(): Promise<{ sender: ClientId; text: string }>;
  openChannel(): Promise<void>;
  channelEcho(text: string): Promise<string>;
  selectedPair(): Promise<{ local: string; remote: string }>;
  drops(): readonly string[];
}

declare global {
  interface Window {
    meshTest: TestApi;
  }
}

const chats: Array<{ sender: ClientId; text: string }> = [];
const chatWaiters: Array<(chat: { sender: ClientId; text: string }) => void> = [];
const dropCodes: string[] = [];
let client: SignalingClient | undefined;
let peerId: ClientId | undefined;
const peerWaiters: Array<(id: ClientId) => void> = [];
let pc: RTCPeerConnection | undefined;
let channel: RTCDataChannel | undefined;
let channelOpen: Promise<void> | undefined;

function connection(): RTCPeerConnection {
  if (pc) return pc;
  const created = new RTCPeerConnection({ iceServers: [] });
  created.addEventListener("icecandidate", ({ candidate }) => {
    if (candidate && client && peerId !== undefined) {
      const init = candidate.toJSON();
      void client.relay(
        {
          type: "ice_candidate",
          candidate: {
            candidate: init.candidate ?? "",
            sdpMid: init.sdpMid ?? null,
            sdpMLineIndex: init.sdpMLineIndex ?? null,
            usernameFragment: init.usernameFragment ?? null,
          },
        },
        peerId,
      );
    }
  });
  created.addEventListener("datachannel", ({ channel: incoming }) => useChannel(incoming));
  pc = created;
  return created;
}

function useChannel(ch: RTCDataChannel): void {
  channel = ch;
  channelOpen = new Promise((resolve) => {
    if (ch.readyState === "open") resolve();
    else ch.addEventListener("open", () => resolve(), { once: true });
  });
  // The answering side echoes every message back, upper-cased.
  ch.addEventListener("message", ({ data }) => {
    if (typeof data === "string" && data.startsWith("echo:")) ch.send(`reply:${data.slice(5).toUpperCase()}`);
  });
}

async function handle(sender: ClientId, message: RelayMessage): Promise<void> {
  switch (message.type) {
    case "chat":
      if ("text" in message.content) {
        const chat = { sender, text: message.content.text };
        const waiter = chatWaiters.shift();
        if (waiter) waiter(chat);
        else chats.push(chat);
      }
      return;
    case "offer": {
      const conn = connection();
      await conn.setRemoteDescription({ type: "offer", sdp: message.sdp });
      await conn.setLocalDescription();
      await client?.relay({ type: "answer", sdp: conn.localDescription?.sdp ?? "" }, sender);
      return;
    }
    case "answer":
      await connection().setRemoteDescription({ type: "answer", sdp: message.sdp });
      return;
    case "ice_candidate":
      await connection().addIceCandidate(message.candidate);
      return;
    default:
      return;
  }
}

window.meshTest = {
  async join(secret) {
    const secrets = deriveRoomSecrets(secret);
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/signaling`;
    const c = new SignalingClient({ url });
    client = c;
    let chain = Promise.resolve();
    c.events.on("message", ({ sender, message }) => {
      chain = chain.then(() => handle(sender, message));
    });
    c.events.on("dropped", ({ reason }) => dropCodes.push(reason.code));
    c.events.on("peer-joined", ({ id }) => {
      peerId = id;
      for (const waiter of peerWaiters.splice(0)) waiter(id);
    });
    const ownId = await c.connected();
    const { hash } = await secrets;
    const joined = c.events.once("room-joined");
    await c.join(await secrets);
    await joined;
    return { ownId, hash };
  },
  waitForPeer() {
    return peerId !== undefined ? Promise.resolve(peerId) : new Promise((resolve) => peerWaiters.push(resolve));
  },
  async sendChat(text) {
    await client?.relay({ type: "chat", content: { text } });
  },
  nextChat() {
    const chat = chats.shift();
    return chat ? Promise.resolve(chat) : new Promise((resolve) => chatWaiters.push(resolve));
  },
  async openChannel() {
    const conn = connection();
    useChannel(conn.createDataChannel("meshmeet-test"));
    await conn.setLocalDescription();
    if (peerId === undefined || !client) throw new Error("no peer to offer to");
    await client.relay({ type: "offer", sdp: conn.localDescription?.sdp ?? "" }, peerId);
    await channelOpen;
  },
  async channelEcho(text) {
    await channelOpen;
    const ch = channel;
    if (!ch) throw new Error("no channel");
    const reply = new Promise<string>((resolve) => {
      const onMessage = ({ data }: MessageEvent) => {
        if (typeof data === "string" && data.startsWith("reply:")) {
          ch.removeEventListener("message", onMessage);
          resolve(data.slice(6));
        }
      };
      ch.addEventListener("message", onMessage);
    });
    ch.send(`echo:${text}`);
    return reply;
  },
  async selectedPair() {
    const stats = await connection().getStats();
    let pairId: string | undefined;
    stats.forEach((report: { type: string; selectedCandidatePairId?: string }) => {
      if (report.type === "transport") pairId = report.selectedCandidatePairId;
    });
    const pair = pairId ? (stats.get(pairId) as { localCandidateId: string; remoteCandidateId: string }) : undefined;
    if (!pair) throw new Error("no selected candidate pair");
    const address = (id: string) => (stats.get(id) as { address?: string } | undefined)?.address ?? "";
    return { local: address(pair.localCandidateId), remote: address(pair.remoteCandidateId) };
  },
  drops() {
    return dropCodes;
  },
};
