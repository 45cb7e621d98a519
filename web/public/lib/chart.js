// The live loss curve: uPlot over (step, loss), redrawn as points arrive.
import { html } from "../html.js";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export function LossChart({ points, steps }) {
  const box = useRef(null);
  const plot = useRef(null);
  const total = useRef(steps);
  total.current = steps;
  useEffect(() => {
    const width = Math.max(280, box.current.clientWidth);
    plot.current = new uPlot(
      {
        width,
        height: 260,
        scales: { x: { time: false, range: (_u, _min, max) => [0, Math.max(total.current ?? max, max, 1)] } },
        axes: [{ label: "step" }, { label: "loss (nats/token)" }],
        series: [
          { label: "step" },
          { label: "training loss", stroke: "#9cc3ea", width: 1, points: { show: false } },
          { label: "smoothed", stroke: "#0b6bcb", width: 2, points: { show: false } },
        ],
      },
      [[], [], []],
      box.current,
    );
    return () => plot.current.destroy();
  }, []);
  useEffect(() => {
    const finite = points.filter((p) => p.loss !== null && Number.isFinite(p.loss));
    // Exponential moving average, debiased at the start: the trend through per-batch noise.
    let avg = 0;
    const smoothed = finite.map((p, i) => ((avg = 0.9 * avg + 0.1 * p.loss), avg / (1 - 0.9 ** (i + 1))));
    plot.current?.setData([finite.map((p) => p.step), finite.map((p) => p.loss), smoothed]);
  }, [points]);
  return html`<div class="chart" ref=${box} data-points=${points.length}></div>`;
}

/** An account's cumulative earnings (OPEN) over time, one point per finalized batch that credited it. */
export function EarningsChart({ history }) {
  const box = useRef(null);
  useEffect(() => {
    const width = Math.max(280, box.current.clientWidth);
    const plot = new uPlot(
      {
        width,
        height: 220,
        scales: { x: { time: true } },
        axes: [{}, { label: "OPEN earned (cumulative)" }],
        series: [{ label: "time" }, { label: "earned", stroke: "#1a7f37", width: 2, fill: "rgba(26,127,55,.08)", points: { show: true } }],
      },
      [history.map((h) => Date.parse(h.at) / 1000), history.map((h) => Number(BigInt(h.cumulative) / 10n ** 12n) / 1e6)],
      box.current,
    );
    return () => plot.destroy();
  }, [history]);
  return html`<div class="chart" ref=${box} data-points=${history.length}></div>`;
}

/**
 * Ticket earnings over time (docs/PROTOCOL.md §16.4): expected (the payout rule at every committed ticket's
 * expected value) against realized (at face value over paid winners), cumulative, one point per finalized batch.
 */
export function TicketChart({ series }) {
  const box = useRef(null);
  useEffect(() => {
    const width = Math.max(280, box.current.clientWidth);
    const open = (s) => Number(BigInt(s) / 10n ** 12n) / 1e6;
    const plot = new uPlot(
      {
        width,
        height: 220,
        scales: { x: { time: true } },
        axes: [{}, { label: "OPEN (cumulative)" }],
        series: [
          { label: "time" },
          { label: "expected", stroke: "#0b6bcb", width: 2, dash: [6, 4], points: { show: true } },
          { label: "realized", stroke: "#1a7f37", width: 2, points: { show: true } },
        ],
      },
      [series.map((p) => p.at / 1000), series.map((p) => open(p.expected)), series.map((p) => open(p.realized))],
      box.current,
    );
    return () => plot.destroy();
  }, [series]);
  return html`<div class="chart" id="ticket-chart" ref=${box} data-points=${series.length}></div>`;
}
