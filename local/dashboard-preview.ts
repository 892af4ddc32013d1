/**
 * `make dashboard-preview`: draws the dashboard's layout, offline, to docs/dashboard.png. The tiles, titles, legends
 * and threshold lines are the ones infra/monitoring/dashboard.ts gives Cloud Monitoring (for the prod environment
 * behind a load balancer); the curves are placeholders, since no data exists here. Chromium through playwright-core.
 */
import * as path from "node:path";
import { launchBrowser } from "./browser";
import { buildDashboard, type Tile } from "../infra/monitoring/dashboard";

const UNIT = 20; // pixels per grid column and row

function legend(tile: Tile): string[] {
  return tile.widget.xyChart.dataSets.map((dataSet) => {
    const query = dataSet.timeSeriesQuery;
    const source = "prometheusQuery" in query ? "PromQL" : "filter";
    return `${dataSet.legendTemplate ?? "series"} (${source})`;
  });
}

function tileHtml(tile: Tile, index: number): string {
  const chart = tile.widget.xyChart;
  const width = tile.width * UNIT - 12;
  const height = tile.height * UNIT - 70;
  const colors = ["#1a73e8", "#e8710a", "#188038", "#a142f4"];
  const curves = chart.dataSets
    .map((_, set) => {
      const points = Array.from({ length: 40 }, (_, i) => {
        const y = 0.55 - 0.18 * set + 0.12 * Math.sin((i + 3 * index + 5 * set) / 4) + 0.05 * Math.sin(i * 1.7 + set);
        return `${((i / 39) * width).toFixed(1)},${(height * (1 - y)).toFixed(1)}`;
      });
      return `<polyline fill="none" stroke="${colors[set % colors.length]}" stroke-width="2" points="${points.join(" ")}"/>`;
    })
    .join("");
  const thresholds = (chart.thresholds ?? [])
    .map((threshold, i) => {
      const y = (height * (0.12 + 0.1 * i)).toFixed(1);
      return `<line x1="0" x2="${width}" y1="${y}" y2="${y}" stroke="#d93025" stroke-dasharray="6 4"/><text x="${width - 4}" y="${Number(y) - 4}" text-anchor="end" fill="#d93025" font-size="11">${threshold.label}: ${threshold.value}</text>`;
    })
    .join("");
  return `<div class="tile" style="left:${tile.xPos * UNIT}px;top:${tile.yPos * UNIT}px;width:${tile.width * UNIT - 12}px;height:${tile.height * UNIT - 12}px">
  <div class="title">${tile.widget.title}</div>
  <svg width="${width}" height="${height}"><rect width="${width}" height="${height}" fill="#fafafa"/>${curves}${thresholds}</svg>
  <div class="legend">${legend(tile)
    .map((item) => `<span>${item}</span>`)
    .join("")}</div>
  <div class="axis">${chart.yAxis.label}</div></div>`;
}

async function main(): Promise<void> {
  const dashboard = buildDashboard({
    displayName: "whiteboard-prod whiteboard",
    serviceName: "whiteboard-prod",
    redisInstanceName: "whiteboard-prod-redis",
    maxInstances: 20,
    instancesAlertAt: 16,
    redisMemoryRatioAlert: 0.8,
    storeLatencyP99Seconds: 0.25,
    loadBalancerUrlMap: "whiteboard-prod-url-map",
  });
  const { columns, tiles } = dashboard.mosaicLayout;
  const heightRows = Math.max(...tiles.map((tile) => tile.yPos + tile.height));
  const html = `<!doctype html><html><head><style>
    body { margin: 0; font: 13px system-ui, sans-serif; background: #f1f3f4; }
    h1 { font-size: 18px; font-weight: 500; margin: 12px 16px; }
    .grid { position: relative; margin: 0 10px 10px; width: ${columns * UNIT}px; height: ${heightRows * UNIT}px; }
    .tile { position: absolute; background: white; border: 1px solid #dadce0; border-radius: 6px; padding: 6px; box-sizing: content-box; }
    .title { font-weight: 500; margin-bottom: 4px; }
    .legend span { margin-right: 12px; color: #5f6368; font-size: 11px; }
    .axis { position: absolute; right: 8px; top: 6px; color: #80868b; font-size: 11px; }
  </style></head><body><h1>${dashboard.displayName} (layout preview: placeholder curves, real titles, legends and thresholds)</h1>
  <div class="grid">${tiles.map(tileHtml).join("")}</div></body></html>`;

  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: columns * UNIT + 20, height: heightRows * UNIT + 60 } });
    await page.setContent(html);
    const out = path.join(__dirname, "..", "docs", "dashboard.png");
    await page.screenshot({ path: out, fullPage: true });
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
  } finally {
    await browser.close();
  }
}

main().catch((error: Error) => {
  console.error(`dashboard preview: ${error.message}`);
  process.exit(1);
});
