/**
 * What this page has selected: element ids, kept while those elements stay visible (an element someone else
 * erased, or this user's undo took back, leaves the selection by itself), and the selection's outline and handles
 * as the board view draws them.
 */
import type { ElementRecord } from "../../protocol/events";
import type { Rect } from "../core/viewport";
import type { BoardPort } from "./board-port";
import { boxOf, frameOf, handlesOf } from "./geometry";
import type { Overlays } from "./overlays";

export class Selection {
  private ids = new Set<string>();

  constructor(
    private readonly board: Pick<BoardPort, "element">,
    /** Called when the selection changes (toolbar state, overlay). */
    private readonly onChange: () => void,
  ) {}

  /** The selected elements still visible, in no particular order. */
  elements(): ElementRecord[] {
    const elements: ElementRecord[] = [];
    for (const id of this.ids) {
      const element = this.board.element(id);
      if (element) elements.push(element);
    }
    return elements;
  }

  get size(): number {
    return this.elements().length;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  set(ids: Iterable<string>): void {
    this.ids = new Set(ids);
    this.onChange();
  }

  toggle(id: string): void {
    if (!this.ids.delete(id)) this.ids.add(id);
    this.onChange();
  }

  clear(): void {
    if (this.ids.size === 0) return;
    this.ids.clear();
    this.onChange();
  }

  /** The frame around the selected elements' boxes (as previews place them while a move or resize runs). */
  bounds(previews: readonly ElementRecord[] = []): Rect | undefined {
    const moved = new Map(previews.map((element) => [element.i, element]));
    return frameOf(this.elements().map((element) => moved.get(element.i) ?? element));
  }

  /** The selection as drawn: an outline per element, the bounds, and handles to resize them. */
  overlay(previews: readonly ElementRecord[], withHandles: boolean): Overlays["selection"] {
    const moved = new Map(previews.map((element) => [element.i, element]));
    const shown = this.elements().map((element) => moved.get(element.i) ?? element);
    const frame = frameOf(shown);
    if (!frame) return undefined;
    return { outlines: shown.map(boxOf), bounds: frame, handles: withHandles ? handlesOf(frame) : [] };
  }
}
