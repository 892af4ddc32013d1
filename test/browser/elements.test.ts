/**
 * Elements in Chromium at 1440×900, pages of one board on different instances: every kind made with its tool
 * appears on the other page; every edit (move, resize, restyle, text, front/back, delete, duplicate, copy and paste)
 * reaches it, and undo and redo of each reach it too; two pages moving one element at once end the same (last writer
 * per field, in the store's order).
 */
import type { Browser } from "playwright-core";
import { decodeText } from "../../client/core/text";
import { launchBrowser } from "../../local/browser";
import { Topology } from "../../local/topology";
import { UNITS_PER_PIXEL, type ElementKind, type ElementRecord } from "../../protocol/events";
import { eventually } from "../support/socket-client";
import { BoardPage } from "./board-page";

let topology: Topology;
let browser: Browser;
const pages: BoardPage[] = [];

beforeAll(async () => {
  [topology, browser] = await Promise.all([Topology.start({ instances: 2 }), launchBrowser()]);
});

afterEach(async () => {
  const closing = pages.splice(0);
  await Promise.all(closing.map((page) => page.close()));
  expect(closing.flatMap((page) => page.refusedByPolicy)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await topology?.stop();
});

async function open(url: string): Promise<BoardPage> {
  const page = await BoardPage.open(browser, url);
  pages.push(page);
  return page;
}

/** A new board's edit link, opened on instance 0, and the same link on instance 1. */
async function twoPages(): Promise<[BoardPage, BoardPage]> {
  const first = await open(`${topology.instance(0).url}/`);
  expect(first.url).toMatch(/\/b\/[A-Za-z0-9_-]+#edit=[A-Za-z0-9_-]{22,}$/);
  const second = await open(first.url.replace(topology.instance(0).url, topology.instance(1).url));
  return [first, second];
}

/** What two pages must agree on about an element: everything but the page-local parts. */
const shape = ({ i, t, x, y, w, h, c, sw, f, d, z }: ElementRecord) => ({ i, t, x, y, w, h, c, sw, f, d, z });

async function sameBoard(a: BoardPage, b: BoardPage): Promise<ElementRecord[]> {
  const settled = await a.settled();
  await b.waitForElements(
    "the other page to show the same board",
    (elements) => JSON.stringify(elements.map(shape)) === JSON.stringify(settled.map(shape)),
  );
  return settled;
}

const kinds = (elements: readonly ElementRecord[]) => elements.map((element) => element.t);

test("each kind made with its tool on one instance's page appears on another instance's page", async () => {
  const [maker, watcher] = await twoPages();
  await maker.choose("Pen");
  await maker.dragOver([0.1, 0.1], [0.25, 0.2]);
  const drags: [string, ElementKind][] = [
    ["Rectangle", "r"],
    ["Ellipse", "e"],
    ["Line", "l"],
    ["Arrow", "a"],
  ];
  for (const [index, [tool]] of drags.entries()) {
    await maker.choose(tool);
    await maker.dragOver([0.1 + index * 0.2, 0.35], [0.25 + index * 0.2, 0.5]);
  }
  await maker.choose("Text");
  await maker.clickAt([0.2, 0.7]);
  await maker.type("Hello, board");
  await maker.choose("Sticky note");
  await maker.clickAt([0.6, 0.75]);
  await maker.type("A note\nwith two lines");

  const elements = await sameBoard(maker, watcher);
  expect(kinds(elements)).toEqual(["f", "r", "e", "l", "a", "t", "n"]);
  expect(decodeText(elements[5]?.d ?? "")).toBe("Hello, board");
  expect(decodeText(elements[6]?.d ?? "")).toBe("A note\nwith two lines");
  // Drawn left to right and down: lines and arrows go that way, every box has a size.
  for (const element of elements) expect(Math.abs(element.w) + Math.abs(element.h)).toBeGreaterThan(0);
  const arrow = elements[4] as ElementRecord;
  expect([Math.sign(arrow.w), Math.sign(arrow.h)]).toEqual([1, 1]);
  const note = elements[6] as ElementRecord;
  expect(note.f).not.toBe("");
});

/** Makes a rectangle by dragging, and returns it as stored. */
async function rectangle(page: BoardPage, from: [number, number], to: [number, number]): Promise<ElementRecord> {
  await page.choose("Rectangle");
  await page.dragOver(from, to);
  await page.choose("Select");
  const elements = await page.settled();
  return elements.at(-1) as ElementRecord;
}

/**
 * How a board looks: its elements in stacking order, without their stacking keys (an undone "bring to front" puts the
 * element back in its place in the order under a new key: the store decides keys).
 */
const look = (elements: readonly ElementRecord[]) =>
  JSON.stringify(elements.map(({ z: _, ...rest }) => shape({ ...rest, z: 0 })));

/** Runs an edit on `editor`, checks the other page sees it, then that undo and redo of it reach the other page. */
async function editUndoRedo(editor: BoardPage, watcher: BoardPage, edit: () => Promise<void>): Promise<void> {
  const before = await sameBoard(editor, watcher);
  await edit();
  const after = await sameBoard(editor, watcher);
  expect(look(after)).not.toBe(look(before));
  await editor.press("Control+z");
  const undone = await sameBoard(editor, watcher);
  expect(look(undone)).toBe(look(before));
  await editor.press("Control+Shift+Z");
  const redone = await sameBoard(editor, watcher);
  expect(look(redone)).toBe(look(after));
}

test("moving, resizing and restyling reach the other page, and so do undo and redo of each", async () => {
  const [editor, watcher] = await twoPages();
  const rect = await rectangle(editor, [0.3, 0.3], [0.45, 0.45]);

  // Move: drag the selected rectangle by its outline.
  await editUndoRedo(editor, watcher, async () => {
    const [x, y] = await editor.toPage(rect.x, rect.y + rect.h / 2);
    await editor.drag([
      [x, y],
      [x + 120, y + 60],
    ]);
  });
  const moved = (await editor.elements()).at(-1) as ElementRecord;
  expect([moved.w, moved.h]).toEqual([rect.w, rect.h]);
  expect(moved.x).toBeGreaterThan(rect.x);

  // Resize: its bottom-right handle.
  await editor.clickAt([0.05, 0.95]);
  const [cx, cy] = await editor.toPage(moved.x, moved.y + moved.h / 2);
  await editor.page.mouse.click(cx, cy);
  await editUndoRedo(editor, watcher, async () => {
    const [hx, hy] = await editor.toPage(moved.x + moved.w, moved.y + moved.h);
    await editor.drag([
      [hx, hy],
      [hx + 80, hy + 40],
    ]);
  });
  const resized = (await editor.elements()).at(-1) as ElementRecord;
  expect(resized.w).toBeGreaterThan(moved.w);
  expect(resized.x).toBe(moved.x);

  // Restyle: a colour, a size and a fill chosen with the rectangle selected.
  await editUndoRedo(editor, watcher, () => editor.choose("red"));
  await editUndoRedo(editor, watcher, () => editor.choose("large size"));
  await editUndoRedo(editor, watcher, () => editor.choose("blue fill"));
  const styled = (await editor.elements()).at(-1) as ElementRecord;
  expect([styled.c, styled.sw, styled.f]).toEqual(["#e03131", 8, "#d0ebff"]);
});

test("text edited in place, front and back, delete and duplicate reach the other page, with undo and redo", async () => {
  const [editor, watcher] = await twoPages();
  await editor.choose("Sticky note");
  await editor.clickAt([0.5, 0.5]);
  await editor.type("first");
  const below = await rectangle(editor, [0.2, 0.2], [0.35, 0.35]);
  const [note] = (await editor.settled()).filter((element) => element.t === "n") as [ElementRecord];

  // Text: a double click on the note opens it for typing.
  await editUndoRedo(editor, watcher, async () => {
    const [x, y] = await editor.centreOf(note);
    await editor.page.mouse.dblclick(x, y);
    await editor.type("second");
  });
  expect(decodeText(((await watcher.elements()).find((element) => element.t === "n") as ElementRecord).d)).toBe(
    "second",
  );

  // Send the rectangle (made last, on top) to the back, then bring it to the front.
  const [rx, ry] = await editor.toPage(below.x, below.y + below.h / 2);
  await editor.page.mouse.click(rx, ry);
  await editUndoRedo(editor, watcher, () => editor.press("["));
  expect(kinds(await watcher.elements())).toEqual(["r", "n"]);
  await editUndoRedo(editor, watcher, () => editor.menu("Bring to front"));
  expect(kinds(await watcher.elements())).toEqual(["n", "r"]);

  // Duplicate and delete.
  await editUndoRedo(editor, watcher, () => editor.press("Control+d"));
  await editor.press("Control+a");
  await editUndoRedo(editor, watcher, () => editor.press("Delete"));
  expect(await watcher.elements()).toEqual([]);
});

test("copy and paste work on the same board and on another board, through the system clipboard's JSON", async () => {
  const [source, watcher] = await twoPages();
  await rectangle(source, [0.3, 0.3], [0.4, 0.4]);
  await source.choose("Text");
  await source.clickAt([0.5, 0.3]);
  await source.type("copied");
  await source.choose("Select");
  await source.press("Control+a");
  const copied = await source.page.evaluate(() => {
    // What Ctrl+C puts on the clipboard, read from the copy event the page answers.
    const data = new DataTransfer();
    document.dispatchEvent(new ClipboardEvent("copy", { clipboardData: data, bubbles: true, cancelable: true }));
    return data.getData("text/plain");
  });
  expect(JSON.parse(copied)).toMatchObject({ type: "whiteboard/elements", version: 1 });

  const other = await open(`${topology.instance(1).url}/`);
  const paste = (page: BoardPage) =>
    page.page.evaluate((text) => {
      const data = new DataTransfer();
      data.setData("text/plain", text);
      document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    }, copied);
  await paste(other);
  const pasted = await other.settled();
  const originals = await source.settled();
  expect(pasted.map(({ t, w, h, c, sw, f, d }) => ({ t, w, h, c, sw, f, d }))).toEqual(
    originals.map(({ t, w, h, c, sw, f, d }) => ({ t, w, h, c, sw, f, d })),
  );
  // New elements, selected.
  expect(pasted.map((element) => element.i)).not.toEqual(originals.map((element) => element.i));
  expect(await other.read((whiteboard) => whiteboard.selectedIds())).toEqual(pasted.map((element) => element.i));

  await paste(source);
  const doubled = await sameBoard(source, watcher);
  expect(kinds(doubled)).toEqual(["r", "t", "r", "t"]);
});

test("two pages moving one element at once end with the same place on every page and in the store", async () => {
  const [a, b] = await twoPages();
  const rect = await rectangle(a, [0.4, 0.4], [0.5, 0.5]);
  await sameBoard(a, b);
  await b.choose("Select");
  // Held by its top edge, a quarter along: a part of its outline, not a handle.
  const [x, y] = await a.toPage(rect.x + rect.w / 4, rect.y);
  for (const page of [a, b]) {
    await page.page.mouse.click(x, y);
    await page.page.mouse.move(x, y);
    await page.page.mouse.down();
  }
  // Both drag at once, in different directions, and let go together.
  await Promise.all([a.page.mouse.move(x + 200, y, { steps: 5 }), b.page.mouse.move(x, y + 150, { steps: 5 })]);
  await Promise.all([a.page.mouse.up(), b.page.mouse.up()]);
  await Promise.all([a.settled(), b.settled()]);

  // A page opened afterwards reads the board from the store.
  const third = await open(a.url);
  await eventually("the three pages to agree on the element's place", async () => {
    const places = await Promise.all(
      [a, b, third].map(async (page) => {
        const element = (await page.elements()).find((candidate) => candidate.i === rect.i);
        return element && `${element.x},${element.y}`;
      }),
    );
    return places[0] !== undefined && places.every((place) => place === places[0]);
  });
  const [moved] = (await third.elements()).filter((element) => element.i === rect.i) as [ElementRecord];
  // One of the two moves won whole (each edit set both x and y; the later in the store's order won both), at 100%:
  // 200 px right, or 150 px down.
  const zoom = await a.read((whiteboard) => whiteboard.zoom());
  const [right, down] = [Math.round((200 * UNITS_PER_PIXEL) / zoom), Math.round((150 * UNITS_PER_PIXEL) / zoom)];
  expect([
    [rect.x + right, rect.y],
    [rect.x, rect.y + down],
  ]).toContainEqual([moved.x, moved.y]);
});
