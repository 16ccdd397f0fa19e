// What a shared microphone needs beyond capture (its audio graph, the RNNoise suppressor), as one
// lazily loaded chunk: a meeting where nobody shares a microphone from this page never loads it.
export { Microphone } from "./microphone.js";
export { RnnoiseLoader } from "./rnnoise.js";
