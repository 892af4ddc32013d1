/**
 * The ink's pixels, rasterized here rather than by the canvas. A large board is 100,000 small filled polygons (a
 * freehand line's outline has 60 to 140 points), and the canvas pays for each one a path built point by point through
 * the DOM bindings and a rasterizer set up per path: 25 to 30 µs a line on this machine, 2.5 s or more for such a
 * board (docs/rendering.md). Here a polygon's edges go straight from the outline's coordinates into an edge list, and
 * its pixels are composited in one pass: a few µs a line.
 *
 * The fill is the nonzero rule (the canvas's and SVG's default) sampled as Skia samples complex paths: SUBSAMPLES
 * scanlines per pixel row, on each the exact winding number between edge crossings, and each span's horizontal extent
 * exact to the fraction of a pixel. A self-overlapping outline (perfect-freehand's corners loop over the line) is
 * therefore covered once, not once per layer, and its edges look as the canvas draws them. Several polygons added
 * before one `fill` are filled as one path (a shape's outer and inner rings, an arrow's shaft and head).
 *
 * Pixels are RGBA, not premultiplied, as ImageData holds them, so a changed area goes to the canvas with
 * `putImageData`. Colours composite either over what is there (`source-over`) or under it (`destination-over`, for a
 * catch-up that draws the newest first): under an opaque pixel nothing is done, so most of a crowded board's lower
 * layers cost only that test.
 */

/** A rectangle of pixels: [left, top) to [right, bottom), whole pixels. */
export interface PixelRect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** How a fill composites: over what is there, or under it. */
export type Compositing = "over" | "under";

/** A colour, 0..255 per channel. */
export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/** Side of the square tiles `covered` remembers as opaque, pixels. */
const TILE = 8;

/** Scanlines sampled per pixel row. */
const SUBSAMPLES = 4;
const SAMPLE_WEIGHT = 1 / SUBSAMPLES;

export class Raster {
  /**
   * RGBA, not premultiplied, row by row (an ImageData's data). Drawn through the methods here, as `clearRect` relies
   * on (the PNG export's white, written directly, is never cleared). Compositing over or under never lowers a pixel's
   * alpha; only `clearRect` and `shift` do, which `opaqueTiles` relies on.
   */
  readonly pixels: Uint8ClampedArray;
  /**
   * Tiles (TILE pixels square, row by row) `covered` found wholly opaque, 1 each: they stay so until cleared or
   * shifted, so a later question about them is answered without reading their pixels. A catch-up draws beneath
   * what is there, and on a crowded board most elements turn out hidden: asking about each one's bounds pixel by
   * pixel cost about as much as drawing it.
   */
  private readonly opaqueTiles: Uint8Array;
  private readonly tilesWide: number;
  /** Where the current path is clipped to. */
  private clip: PixelRect;
  /** The current path's edges: x at its first scanline, x step per scanline, first and end scanline, direction. */
  private edgeX = new Float64Array(256);
  private edgeStep = new Float64Array(256);
  private edgeFirst = new Int32Array(256);
  private edgeEnd = new Int32Array(256);
  private edgeDirection = new Int8Array(256);
  private edgeCount = 0;
  /** Scanlines and columns the current path may cover. */
  private firstScanline = Infinity;
  private endScanline = -Infinity;
  private minX = Infinity;
  private maxX = -Infinity;
  /** Edges by first scanline (index from `firstScanline`), linked through `nextEdge`; -1 ends a list. */
  private startsAt = new Int32Array(256).fill(-1);
  private nextEdge = new Int32Array(256);
  /** The edges crossing the current scanline: their index, and x there. */
  private active = new Int32Array(256);
  private activeX = new Float64Array(256);
  /** Coverage of one pixel row, 0..1 per pixel (a pixel past the right edge for spans that end there). */
  private readonly coverage: Float32Array;
  /** Pixels changed since `takeChanged`. */
  private changed: PixelRect | undefined;
  /**
   * Nothing drawn since the raster was made or last cleared whole. Clearing it again is then skipped: the ink clears
   * its new raster as the first frame of a late joiner's page starts, and clearing 1280×800 pixels nobody drew (the
   * first touch of 4 MB) took 18 to 22 ms in a worker, in the frame the first answer waits for.
   */
  private blank = true;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = new Uint8ClampedArray(width * height * 4);
    this.coverage = new Float32Array(width + 1);
    this.clip = this.whole();
    this.tilesWide = Math.ceil(width / TILE);
    this.opaqueTiles = new Uint8Array(this.tilesWide * Math.ceil(height / TILE));
  }

  /** The whole raster as a rectangle. */
  whole(): PixelRect {
    return { left: 0, top: 0, right: this.width, bottom: this.height };
  }

  /** Clips what is drawn from now on to `rect` (within the raster); undefined: the whole raster. */
  setClip(rect: PixelRect | undefined): void {
    this.clip = rect ? intersect(rect, this.whole()) : this.whole();
  }

  /** Where drawing is clipped to. */
  clipRect(): PixelRect {
    return this.clip;
  }

  /** Whether every pixel of a rectangle (within the clip) is opaque: nothing composited under it would show. */
  covered(rect: PixelRect): boolean {
    const { left, top, right, bottom } = intersect(rect, this.clip);
    if (left >= right || top >= bottom) return true;
    const { opaqueTiles, tilesWide, width, height, pixels } = this;
    for (let tileY = Math.floor(top / TILE); tileY * TILE < bottom; tileY += 1) {
      const [tileTop, tileBottom] = [tileY * TILE, Math.min(tileY * TILE + TILE, height)];
      const [fromY, toY] = [Math.max(top, tileTop), Math.min(bottom, tileBottom)];
      for (let tileX = Math.floor(left / TILE); tileX * TILE < right; tileX += 1) {
        const tile = tileY * tilesWide + tileX;
        if (opaqueTiles[tile] === 1) continue;
        const [tileLeft, tileRight] = [tileX * TILE, Math.min(tileX * TILE + TILE, width)];
        const [fromX, toX] = [Math.max(left, tileLeft), Math.min(right, tileRight)];
        for (let y = fromY; y < toY; y += 1)
          for (let at = (y * width + fromX) * 4 + 3, end = (y * width + toX) * 4; at < end; at += 4)
            if (pixels[at] !== 255) return false;
        if (fromX === tileLeft && toX === tileRight && fromY === tileTop && toY === tileBottom) opaqueTiles[tile] = 1;
      }
    }
    return true;
  }

  /** Makes a rectangle of pixels transparent. */
  clearRect(rect: PixelRect): void {
    const { left, top, right, bottom } = intersect(rect, this.whole());
    if (left >= right || top >= bottom || this.blank) return;
    for (let y = top; y < bottom; y += 1)
      this.pixels.fill(0, (y * this.width + left) * 4, (y * this.width + right) * 4);
    for (let tileY = Math.floor(top / TILE); tileY * TILE < bottom; tileY += 1)
      this.opaqueTiles.fill(
        0,
        tileY * this.tilesWide + Math.floor(left / TILE),
        tileY * this.tilesWide + Math.ceil(right / TILE),
      );
    this.touch(left, top, right, bottom);
    this.blank = left === 0 && top === 0 && right === this.width && bottom === this.height;
  }

  /** Moves every pixel by (dx, dy) whole pixels; the pixels uncovered become transparent. */
  shift(dx: number, dy: number): void {
    const { pixels, width, height } = this;
    const rowBytes = width * 4;
    const copy = (y: number) => {
      const from = y - dy;
      const row = y * rowBytes;
      if (from < 0 || from >= height) return pixels.fill(0, row, row + rowBytes);
      // Within the row: the source columns that stay in view, then the columns uncovered.
      const source = from * rowBytes;
      if (dx >= 0) {
        pixels.copyWithin(row + dx * 4, source, source + (width - dx) * 4);
        pixels.fill(0, row, row + dx * 4);
      } else {
        pixels.copyWithin(row, source - dx * 4, source + rowBytes);
        pixels.fill(0, row + (width + dx) * 4, row + rowBytes);
      }
    };
    // Rows move away from where they are copied to: downwards from the bottom, upwards from the top.
    if (dy > 0) for (let y = height - 1; y >= 0; y -= 1) copy(y);
    else for (let y = 0; y < height; y += 1) copy(y);
    // Found again as they are asked about: a pan is rare beside the questions a frame asks.
    this.opaqueTiles.fill(0);
    this.touch(0, 0, width, height);
  }

  /** The pixels changed since the last call (undefined: none), to copy to the canvas. */
  takeChanged(): PixelRect | undefined {
    const changed = this.changed;
    this.changed = undefined;
    return changed;
  }

  /**
   * Adds a closed polygon to the current path: `count` points `[x, y, ...]` from index `from` of `points`, each
   * mapped to pixels as (x × scale + dx, y × scale + dy). A point closer than `minStep` pixels to the last one kept
   * is left out (the last point never is): detail finer than the pixels changes nothing visible.
   */
  polygon(
    points: ArrayLike<number>,
    from: number,
    count: number,
    scale: number,
    dx: number,
    dy: number,
    minStep = 0,
  ): void {
    if (count < 2) return;
    const minStepSquared = minStep * minStep;
    const firstX = (points[from] as number) * scale + dx;
    const firstY = (points[from + 1] as number) * scale + dy;
    let lastX = firstX;
    let lastY = firstY;
    const end = from + 2 * count;
    for (let index = from + 2; index < end; index += 2) {
      const x = (points[index] as number) * scale + dx;
      const y = (points[index + 1] as number) * scale + dy;
      const stepX = x - lastX;
      const stepY = y - lastY;
      if (stepX * stepX + stepY * stepY < minStepSquared && index < end - 2) continue;
      this.edge(lastX, lastY, x, y);
      lastX = x;
      lastY = y;
    }
    this.edge(lastX, lastY, firstX, firstY);
  }

  /** Adds an edge of the current path, in pixels (a polygon is its edges, each from one point to the next). */
  edge(x0: number, y0: number, x1: number, y1: number): void {
    let direction = 1;
    if (y0 > y1) {
      const swapX = x0;
      const swapY = y0;
      x0 = x1;
      y0 = y1;
      x1 = swapX;
      y1 = swapY;
      direction = -1;
    }
    // The scanlines it crosses: sample k lies at y = (k + 0.5) / SUBSAMPLES, and an edge covers [y0, y1).
    const { top, bottom } = this.clip;
    const first = Math.max(Math.ceil(y0 * SUBSAMPLES - 0.5), top * SUBSAMPLES);
    const end = Math.min(Math.ceil(y1 * SUBSAMPLES - 0.5), bottom * SUBSAMPLES);
    // Nothing to do, or a coordinate that is not a finite number (x − x is 0 only for those that are).
    if (!(first < end) || x0 - x0 !== 0 || x1 - x1 !== 0) return;
    const slope = (x1 - x0) / (y1 - y0);
    const index = this.edgeCount;
    if (index === this.edgeX.length) this.growEdges();
    this.edgeX[index] = x0 + ((first + 0.5) * SAMPLE_WEIGHT - y0) * slope;
    this.edgeStep[index] = slope * SAMPLE_WEIGHT;
    this.edgeFirst[index] = first;
    this.edgeEnd[index] = end;
    this.edgeDirection[index] = direction;
    this.edgeCount = index + 1;
    if (first < this.firstScanline) this.firstScanline = first;
    if (end > this.endScanline) this.endScanline = end;
    if (x0 < this.minX) this.minX = x0;
    if (x1 < this.minX) this.minX = x1;
    if (x0 > this.maxX) this.maxX = x0;
    if (x1 > this.maxX) this.maxX = x1;
  }

  private growEdges(): void {
    const size = this.edgeX.length * 2;
    const grown = <T extends Float64Array | Int32Array | Int8Array>(array: T, make: (size: number) => T): T => {
      const bigger = make(size);
      bigger.set(array);
      return bigger;
    };
    this.edgeX = grown(this.edgeX, (n) => new Float64Array(n));
    this.edgeStep = grown(this.edgeStep, (n) => new Float64Array(n));
    this.edgeFirst = grown(this.edgeFirst, (n) => new Int32Array(n));
    this.edgeEnd = grown(this.edgeEnd, (n) => new Int32Array(n));
    this.edgeDirection = grown(this.edgeDirection, (n) => new Int8Array(n));
    this.nextEdge = new Int32Array(size);
    this.active = new Int32Array(size);
    this.activeX = new Float64Array(size);
  }

  /**
   * Fills the current path with a colour (alpha 0..1) under the nonzero rule, over or under what is there, and starts
   * a new path. Returns the pixels composited.
   */
  fill(color: Rgb, alpha: number, compositing: Compositing): number {
    const count = this.edgeCount;
    const firstScanline = this.firstScanline;
    const endScanline = this.endScanline;
    const { left, right } = this.clip;
    const minX = Math.max(left, Math.floor(this.minX));
    const maxX = Math.min(right - 1, Math.floor(this.maxX));
    this.edgeCount = 0;
    this.firstScanline = this.minX = Infinity;
    this.endScanline = this.maxX = -Infinity;
    if (count === 0 || minX > maxX) return 0;
    const scanlines = endScanline - firstScanline;
    if (this.startsAt.length < scanlines) this.startsAt = new Int32Array(scanlines * 2).fill(-1);
    const { startsAt, nextEdge, edgeX, edgeStep, edgeFirst, edgeEnd, edgeDirection, active, activeX, coverage } = this;
    for (let edge = 0; edge < count; edge += 1) {
      const slot = (edgeFirst[edge] as number) - firstScanline;
      nextEdge[edge] = startsAt[slot] as number;
      startsAt[slot] = edge;
    }
    let activeCount = 0;
    let pixelCount = 0;
    let rowMin = Infinity;
    let rowMax = -Infinity;
    /** The scanline that starts the next pixel row. */
    let rowEnd = (Math.floor(firstScanline / SUBSAMPLES) + 1) * SUBSAMPLES;
    const under = compositing === "under";
    /** Beneath: the current pixel row's part of the path's columns is opaque already, so nothing there would show. */
    let rowHidden = false;
    for (let scanline = firstScanline; scanline < endScanline; scanline += 1) {
      if (under && (scanline === firstScanline || scanline % SUBSAMPLES === 0)) {
        const y = Math.floor(scanline / SUBSAMPLES);
        rowHidden = this.covered({ left: minX, top: y, right: maxX + 1, bottom: y + 1 });
      }
      // Edges ended are dropped, edges starting here join.
      let kept = 0;
      for (let k = 0; k < activeCount; k += 1) {
        const edge = active[k] as number;
        if ((edgeEnd[edge] as number) > scanline) {
          active[kept] = edge;
          activeX[kept] = (activeX[k] as number) + (edgeStep[edge] as number);
          kept += 1;
        }
      }
      activeCount = kept;
      const slot = scanline - firstScanline;
      for (let edge = startsAt[slot] as number; edge !== -1; edge = nextEdge[edge] as number) {
        active[activeCount] = edge;
        activeX[activeCount] = edgeX[edge] as number;
        activeCount += 1;
      }
      startsAt[slot] = -1;
      if (rowHidden) {
        if (scanline + 1 === rowEnd) rowEnd += SUBSAMPLES;
        continue;
      }
      // Crossings in x order (the order changes little from one scanline to the next).
      for (let k = 1; k < activeCount; k += 1) {
        const x = activeX[k] as number;
        if ((activeX[k - 1] as number) <= x) continue;
        const edge = active[k] as number;
        let j = k - 1;
        while (j >= 0 && (activeX[j] as number) > x) {
          active[j + 1] = active[j] as number;
          activeX[j + 1] = activeX[j] as number;
          j -= 1;
        }
        active[j + 1] = edge;
        activeX[j + 1] = x;
      }
      // Spans where the winding number is not zero.
      let winding = 0;
      let start = 0;
      for (let k = 0; k < activeCount; k += 1) {
        const before = winding;
        winding += edgeDirection[active[k] as number] as number;
        if (before === 0 && winding !== 0) start = activeX[k] as number;
        else if (before !== 0 && winding === 0) {
          const from = start < left ? left : start;
          const to = (activeX[k] as number) > right ? right : (activeX[k] as number);
          if (from >= to) continue;
          const first = Math.floor(from);
          const last = Math.floor(to);
          if (first < rowMin) rowMin = first;
          if (last > rowMax) rowMax = last;
          if (first === last) coverage[first] = (coverage[first] as number) + (to - from) * SAMPLE_WEIGHT;
          else {
            coverage[first] = (coverage[first] as number) + (first + 1 - from) * SAMPLE_WEIGHT;
            for (let x = first + 1; x < last; x += 1) coverage[x] = (coverage[x] as number) + SAMPLE_WEIGHT;
            coverage[last] = (coverage[last] as number) + (to - last) * SAMPLE_WEIGHT;
          }
        }
      }
      // The row's last scanline: its pixels are composited.
      if (scanline + 1 !== rowEnd && scanline + 1 < endScanline) continue;
      rowEnd += SUBSAMPLES;
      if (rowMin > rowMax) continue;
      pixelCount += this.compositeRow(
        Math.floor(scanline / SUBSAMPLES),
        rowMin,
        Math.min(rowMax, right - 1),
        color,
        alpha,
        compositing,
      );
      // A span ending at the clip's right side wrote one cell past the pixels composited.
      if (rowMax >= right) coverage[right] = 0;
      rowMin = Infinity;
      rowMax = -Infinity;
    }
    if (pixelCount > 0)
      this.touch(minX, Math.floor(firstScanline / SUBSAMPLES), maxX + 1, Math.ceil(endScanline / SUBSAMPLES));
    return pixelCount;
  }

  /** Composites a row's coverage, columns `from` to `to` (inclusive), with a colour, and clears the coverage. */
  private compositeRow(
    y: number,
    from: number,
    to: number,
    color: Rgb,
    alpha: number,
    compositing: Compositing,
  ): number {
    const { pixels, coverage } = this;
    const { r, g, b } = color;
    const under = compositing === "under";
    let count = 0;
    for (let x = from, at = (y * this.width + from) * 4; x <= to; x += 1, at += 4) {
      const covered = coverage[x] as number;
      coverage[x] = 0;
      if (covered < 1 / 512) continue;
      const source = (covered > 1 ? 1 : covered) * alpha;
      const belowByte = pixels[at + 3] as number;
      count += 1;
      if (belowByte === 0 || (!under && source === 1)) {
        pixels[at] = r;
        pixels[at + 1] = g;
        pixels[at + 2] = b;
        pixels[at + 3] = source * 255;
        continue;
      }
      if (under && belowByte === 255) continue;
      const below = belowByte * (1 / 255);
      // Under: the colour is seen through what is there; over: what is there through the colour.
      const out = under ? below + source * (1 - below) : source + below * (1 - source);
      const weight = (under ? source * (1 - below) : source) / out;
      const kept = 1 - weight;
      pixels[at] = (pixels[at] as number) * kept + r * weight;
      pixels[at + 1] = (pixels[at + 1] as number) * kept + g * weight;
      pixels[at + 2] = (pixels[at + 2] as number) * kept + b * weight;
      pixels[at + 3] = out * 255;
    }
    return count;
  }

  /**
   * Composites an image (RGBA, not premultiplied, `imageWidth` wide) with its top-left corner at pixel (atX, atY),
   * over or under what is there, within the clip.
   */
  image(source: Uint8ClampedArray, imageWidth: number, atX: number, atY: number, compositing: Compositing): void {
    const imageHeight = source.length / 4 / imageWidth;
    const area = intersect({ left: atX, top: atY, right: atX + imageWidth, bottom: atY + imageHeight }, this.clip);
    const { pixels, width } = this;
    for (let y = area.top; y < area.bottom; y += 1) {
      for (let x = area.left; x < area.right; x += 1) {
        const from = ((y - atY) * imageWidth + (x - atX)) * 4;
        const alpha = (source[from + 3] as number) / 255;
        if (alpha === 0) continue;
        const at = (y * width + x) * 4;
        const below = (pixels[at + 3] as number) / 255;
        let weight: number;
        let out: number;
        if (compositing === "under") {
          if (below === 1) continue;
          out = below + alpha * (1 - below);
          weight = (alpha * (1 - below)) / out;
        } else {
          out = alpha + below * (1 - alpha);
          weight = alpha / out;
        }
        const kept = 1 - weight;
        pixels[at] = (pixels[at] as number) * kept + (source[from] as number) * weight;
        pixels[at + 1] = (pixels[at + 1] as number) * kept + (source[from + 1] as number) * weight;
        pixels[at + 2] = (pixels[at + 2] as number) * kept + (source[from + 2] as number) * weight;
        pixels[at + 3] = out * 255;
      }
    }
    if (area.left < area.right && area.top < area.bottom) this.touch(area.left, area.top, area.right, area.bottom);
  }

  private touch(left: number, top: number, right: number, bottom: number): void {
    this.blank = false;
    const changed = this.changed;
    this.changed = changed
      ? {
          left: Math.min(changed.left, left),
          top: Math.min(changed.top, top),
          right: Math.max(changed.right, right),
          bottom: Math.max(changed.bottom, bottom),
        }
      : { left, top, right, bottom };
  }
}

function intersect(a: PixelRect, b: PixelRect): PixelRect {
  return {
    left: Math.max(a.left, b.left),
    top: Math.max(a.top, b.top),
    right: Math.min(a.right, b.right),
    bottom: Math.min(a.bottom, b.bottom),
  };
}

const colors = new Map<string, Rgb>();
/** A checked `#rrggbb` colour's channels. */
export function rgbOf(color: string): Rgb {
  let rgb = colors.get(color);
  if (!rgb) {
    const value = Number.parseInt(color.slice(1), 16);
    rgb = { r: (value >> 16) & 255, g: (value >> 8) & 255, b: value & 255 };
    if (colors.size < 4_096) colors.set(color, rgb);
  }
  return rgb;
}
