/**
 * The board port (./board-port.ts) over client-core's session (client/core/session-api.ts) and its undo history:
 * the one place that knows how the page's gestures map onto the session's writes.
 */
import type { ElementRecord } from "../../protocol/events";
import { decodeSamples, type Sample } from "../../protocol/points";
import type { WriteAck } from "../../protocol/events";
import type { History } from "../core/history";
import type { BoardSession } from "../core/session-api";
import type { BoardPort, Edit, LineDraft, NewElement, Style, UndoOutcome } from "./board-port";

export class SessionPort implements BoardPort {
  constructor(
    private readonly session: BoardSession,
    private readonly history: History,
  ) {}

  get canEdit(): boolean {
    return this.session.canEdit;
  }

  get userId(): string {
    return this.session.you?.id ?? "";
  }

  elements(): readonly ElementRecord[] {
    return this.session.elements();
  }

  element(id: string): ElementRecord | undefined {
    return this.session.element(id);
  }

  beginLine(first: Sample, { c, sw }: Pick<Style, "c" | "sw">): LineDraft {
    const { session } = this;
    const id = session.begin(first, { c, sw }) ?? "";
    return {
      id,
      extend: (samples) => session.extend(...samples),
      // A line past the points limit became several elements: one action all the same.
      end: () => this.history.drew(session.end()),
    };
  }

  create(elements: readonly NewElement[]): string[] {
    const ids: string[] = [];
    // The session's `create` takes shapes, text and notes; a freehand line (pasted, imported) is drawn again, its
    // points placed in its box as the renderer places them.
    for (const element of elements) {
      if (element.t === "f") ids.push(...this.redraw(element));
      else ids.push(...this.session.create([{ ...element, t: element.t }]));
    }
    this.history.drew(ids);
    return ids;
  }

  edit(edit: Edit): void {
    if (edit.length > 0) this.history.edit(edit);
  }

  erase(ids: readonly string[]): void {
    if (ids.length > 0) this.history.remove(ids);
  }

  async clear(): Promise<WriteAck> {
    const ack = await this.session.clear();
    if (ack.ok) this.history.cleared(ack.s);
    return ack;
  }

  get canUndo(): boolean {
    return this.history.canUndo;
  }

  get canRedo(): boolean {
    return this.history.canRedo;
  }

  undo(): Promise<UndoOutcome> {
    return this.history.undo();
  }

  redo(): Promise<UndoOutcome> {
    return this.history.redo();
  }

  private redraw({ b: [x, y, w, h], c, sw, d }: NewElement): string[] {
    const flat = decodeSamples(d);
    if (typeof flat === "string") return [];
    let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
    for (let index = 0; index < flat.length; index += 3) {
      [minX, maxX] = [Math.min(minX, flat[index] as number), Math.max(maxX, flat[index] as number)];
      [minY, maxY] = [Math.min(minY, flat[index + 1] as number), Math.max(maxY, flat[index + 1] as number)];
    }
    const scaleX = maxX > minX ? w / (maxX - minX) : 1;
    const scaleY = maxY > minY ? h / (maxY - minY) : 1;
    const samples: Sample[] = [];
    for (let index = 0; index < flat.length; index += 3)
      samples.push([
        Math.round(x + ((flat[index] as number) - minX) * scaleX),
        Math.round(y + ((flat[index + 1] as number) - minY) * scaleY),
        flat[index + 2] as number,
      ]);
    const [first, ...rest] = samples;
    if (!first || this.session.begin(first, { c, sw }) === undefined) return [];
    if (rest.length > 0) this.session.extend(...rest);
    return this.session.end();
  }
}
