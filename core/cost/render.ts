/** How `npm run cost` and the cost page show an estimate, beside the Clickstream Analytics on AWS figures. */
import { clickstreamCheapestStreaming, clickstreamCostAt, CLICKSTREAM_RATES } from './clickstream';
import type { CostEstimate } from './estimate';

export const usd = (n: number): string => (n >= 100 ? `$${Math.round(n).toLocaleString('en-US')}` : `$${n.toFixed(2)}`);

function workloadText(e: CostEstimate): string {
  const w = e.workload;
  return `${w.eventsPerSecond.toLocaleString('en-US')} events/s of ${w.eventBytes} bytes, ${w.users.toLocaleString('en-US')} users (Zipf ${w.zipfExponent}), ${w.windowSeconds} s window, stage ${e.stage}`;
}

/** The command's output: every line with its basis, per-service subtotals, the total, then the comparison. */
export function renderCostText(e: CostEstimate): string {
  const out: string[] = [`Monthly estimate: ${workloadText(e)} (us-east-1 list prices, 30 days)`, ''];
  for (const svc of e.services) {
    out.push(`${svc.service.padEnd(56)} ${usd(svc.monthly).padStart(9)}`);
    for (const l of e.lines.filter((x) => x.service === svc.service)) out.push(`  ${l.item.padEnd(54)} ${usd(l.monthly).padStart(9)}   ${l.basis}`);
  }
  out.push('', `${'Total'.padEnd(56)} ${usd(e.total).padStart(9)}`, '  Athena: $5 per TB scanned, by the queries you run (Parquet and partition projection keep scans small)');
  for (const n of e.notes) out.push(`  note: ${n}`);
  out.push('', ...renderComparisonText(e));
  return out.join('\n');
}

function renderComparisonText(e: CostEstimate): string[] {
  const rate = e.workload.eventsPerSecond;
  const rows = clickstreamCostAt(rate);
  if (!rows) return [`Clickstream Analytics on AWS publishes its costs at ${CLICKSTREAM_RATES.join(', ')} requests/s only; run with --events-per-second ${CLICKSTREAM_RATES.join(', ')} to compare.`];
  const out = [`Clickstream Analytics on AWS at ${rate} requests/s (1 KB requests; its published cost page, per module; a deployment sums the modules it enables):`];
  for (const r of rows) out.push(`  ${`${r.module}: ${r.option}`.padEnd(90)} ${usd(r.monthly).padStart(9)}`);
  out.push(`  ${'its cheapest streaming setup (Kinesis provisioned, daily processing, reporting, logs)'.padEnd(90)} ${usd(clickstreamCheapestStreaming(rate)!).padStart(9)}`);
  out.push('  It ends in a warehouse and dashboards, not in profiles a service reads per request; see docs/cost.md.');
  return out;
}

/** The cost page's table: per service, with the lines that make it up. */
export function renderCostMarkdown(e: CostEstimate): string {
  const out = [`| service | item | per month |`, `|---|---|---|`];
  for (const svc of e.services) {
    const lines = e.lines.filter((x) => x.service === svc.service);
    lines.forEach((l, i) => out.push(`| ${i === 0 ? `**${svc.service}** (${usd(svc.monthly)})` : ''} | ${l.item} | ${usd(l.monthly)} |`));
  }
  out.push(`| **total** | | **${usd(e.total)}** |`);
  return out.join('\n');
}
