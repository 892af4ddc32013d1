/**
 * The ink worker: paints the board's elements on the OffscreenCanvas the page hands it (see ./ink.ts), so that
 * computing outlines and rasterizing run beside the page's own work rather than between it.
 */
import { InkPainter, type InkEvent, type InkMessage } from "./ink";
import { warmTextFont } from "./render";

/** The parts of a dedicated worker's global scope this uses (the client is type-checked with the DOM's library). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<InkMessage>) => void) | null;
  postMessage(message: unknown): void;
  requestAnimationFrame?(callback: () => void): number;
}

const scope = self as unknown as WorkerScope;
/** Frames follow the display where workers have requestAnimationFrame; a timer stands in elsewhere. */
const requestFrame = (callback: () => void) =>
  scope.requestAnimationFrame ? scope.requestAnimationFrame.call(scope, () => callback()) : setTimeout(callback, 16);

let painter: InkPainter | undefined;
scope.onmessage = ({ data: message }) => {
  if (message.t === "init")
    painter = new InkPainter(message.canvas, requestFrame, (event) => scope.postMessage(event), true);
  else painter?.enqueue(message);
};
// The page hands over its canvas only once this runs (see WorkerInk in ./ink.ts).
scope.postMessage({ kind: "ready" } satisfies InkEvent);
// While the page answers and a late joiner's first answer is on its way.
warmTextFont();
