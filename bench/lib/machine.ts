/** The machine a benchmark ran on, for its report. */
import { execFileSync } from "node:child_process";
import os from "node:os";
import type { Machine } from "./results";

export function machineNow(): Machine {
  return {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model ?? "unknown CPU",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    redis: execFileSync("redis-server", ["--version"]).toString().trim(),
    loadBefore: os.loadavg().map((value) => Math.round(value * 100) / 100),
  };
}
