import type { EvidenceReport, EvidenceRow } from './evidence.js';
import { shortDuration } from './format.js';
import { drillOutcome, type DrillSummary } from './model.js';

/** Text in HTML: the report embeds ids, tag values and check details that users and databases supply. */
const esc = (s: unknown): string =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const monthName = (m: string) => `${MONTHS[Number(m.slice(5, 7)) - 1]} ${m.slice(0, 4)}`;
const day = (iso: string) => iso.slice(0, 10);
const minute = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;
const pct = (a: number, b: number) => (b ? `${Math.floor((a * 1000) / b) / 10} %` : 'n/a');
const dur = (s: number | undefined) => (s === undefined ? '–' : shortDuration(s));

const CSS = `
:root{--ink:#1d2733;--muted:#5b6876;--line:#dde3ea;--bg:#f6f8fa;--ok:#1a7f37;--late:#9a6700;--bad:#cf222e;--accent:#0969da}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--ink);background:#fff}
main{max-width:1180px;margin:0 auto;padding:28px 32px 48px}
header{border-bottom:3px solid var(--ink);padding-bottom:14px;margin-bottom:22px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:30px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:14px;margin:0 0 6px}
.meta{color:var(--muted);font-size:13px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px}
.card{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:12px 14px}
.card .v{font-size:22px;font-weight:600}.card .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--bg);font-weight:600;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;font-weight:600;color:#fff}
.b-ok{background:var(--ok)}.b-late{background:var(--late)}.b-bad{background:var(--bad)}.b-none{background:#8c959f}
.ok{color:var(--ok)}.bad{color:var(--bad)}.late{color:var(--late)}.muted{color:var(--muted)}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;white-space:nowrap}
figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:10px 12px}
figcaption{font-size:12px;color:var(--muted);margin-top:4px}
svg text{font:11px -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;fill:#5b6876}
details{margin:2px 0}summary{cursor:pointer;color:var(--accent)}
ul.checks{margin:4px 0 0;padding-left:18px}
.notes li{color:var(--muted)}
footer{margin-top:36px;color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding-top:10px}
@media print{main{padding:0}summary{color:var(--ink)}details{display:block}}
`;

// Seconds in the unit an axis is labelled in: s, min, h, d.
const UNITS = [
  { s: 86_400, name: 'd', from: 3 * 86_400 },
  { s: 3600, name: 'h', from: 3 * 3600 },
  { s: 60, name: 'min', from: 180 },
  { s: 1, name: 's', from: 0 },
];
const unitFor = (max: number) => UNITS.find((u) => max >= u.from)!;

/** Round an axis maximum (seconds) up to 1, 2, 4, 5, 8 or 10 × a power of ten of its unit. */
const niceCeil = (seconds: number): { max: number; ticks: number } => {
  const u = unitFor(seconds);
  const v = seconds / u.s;
  const p = 10 ** Math.floor(Math.log10(v));
  const m = [1, 2, 4, 5, 8, 10].find((k) => k * p >= v)!;
  // Ticks on round numbers: fifths of 1, 5 and 10, quarters of 2, 4 and 8.
  return { max: m * p * u.s, ticks: m === 1 || m === 5 || m === 10 ? 5 : 4 };
};

/** An axis label: `40 min`, `6 h`, `3 d`, in the unit of the axis maximum. */
const axisLabel = (max: number) => {
  const u = unitFor(max);
  return (v: number) => `${Number((v / u.s).toFixed(1))} ${u.name}`;
};

interface Point {
  x: number;
  y: number;
  ok?: boolean;
  label: string;
}

/** A small line/point chart as inline SVG: x and y in data units, a dashed target line, labelled axes. */
const chart = (o: {
  kind: string;
  title: string;
  series: { name: string; colour: string; points: Point[] }[];
  xMin: number;
  xMax: number;
  xLabels: { x: number; text: string }[];
  yUnit: (v: number) => string;
  target?: number;
  width?: number;
  height?: number;
}): string => {
  const W = o.width ?? 280;
  const H = o.height ?? 160;
  const L = 52;
  const R = 10;
  const T = 12;
  const B = 26;
  const all = o.series.flatMap((s) => s.points.map((p) => p.y));
  const axis = niceCeil(Math.max(1, o.target ?? 0, ...all) * 1.08);
  const yMax = axis.max;
  const sx = (x: number) => L + ((x - o.xMin) / Math.max(1, o.xMax - o.xMin)) * (W - L - R);
  const sy = (y: number) => T + (1 - y / yMax) * (H - T - B);
  const tick = axisLabel(yMax);
  const ticks = Array.from({ length: axis.ticks + 1 }, (_, i) => (i / axis.ticks) * yMax);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" data-chart="${esc(o.kind)}" viewBox="0 0 ${W} ${H}" width="100%" preserveAspectRatio="xMidYMid meet">`,
    `<title>${esc(o.title)}</title>`,
    ...ticks.map(
      (v) =>
        `<line x1="${L}" x2="${W - R}" y1="${sy(v).toFixed(1)}" y2="${sy(v).toFixed(1)}" stroke="#eaeef2"/><text x="${L - 6}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end">${esc(tick(v))}</text>`,
    ),
    `<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#8c959f"/>`,
    `<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#8c959f"/>`,
    ...o.xLabels.map(
      (l) => `<text x="${sx(l.x).toFixed(1)}" y="${H - 8}" text-anchor="middle">${esc(l.text)}</text>`,
    ),
  ];
  if (o.target !== undefined) {
    parts.push(
      `<line class="target" x1="${L}" x2="${W - R}" y1="${sy(o.target).toFixed(1)}" y2="${sy(o.target).toFixed(1)}" stroke="#cf222e" stroke-dasharray="5 4"/>`,
      `<text x="${W - R}" y="${(sy(o.target) - 4).toFixed(1)}" text-anchor="end" style="fill:#cf222e">target ${esc(o.yUnit(o.target))}</text>`,
    );
  }
  for (const s of o.series) {
    const pts = s.points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`);
    if (pts.length > 1)
      parts.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="1.8" points="${pts.join(' ')}"/>`);
    for (const p of s.points) {
      const fill = p.ok === false ? '#cf222e' : s.colour;
      parts.push(
        `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.2" fill="${fill}"><title>${esc(p.label)}</title></circle>`,
      );
    }
  }
  parts.push('</svg>');
  return parts.join('');
};

/** A 120 × 24 sparkline of daily DR lag for a table cell. */
const sparkline = (values: (number | null)[], limit: number | undefined): string => {
  const W = 120;
  const H = 24;
  const present = values.filter((v): v is number => v !== null);
  if (!present.length) return '<span class="muted">no copies</span>';
  const max = Math.max(...present, limit ?? 0, 1);
  const x = (i: number) => ((i / Math.max(1, values.length - 1)) * (W - 4) + 2).toFixed(1);
  const y = (v: number) => (H - 2 - (v / max) * (H - 4)).toFixed(1);
  const pts = values.flatMap((v, i) => (v === null ? [] : [`${x(i)},${y(v)}`]));
  const over = limit !== undefined && present.some((v) => v > limit);
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" data-chart="dr-lag-spark" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}"><title>DR lag per day, max ${esc(shortDuration(Math.max(...present)))}</title>${limit !== undefined ? `<line x1="0" x2="${W}" y1="${y(limit)}" y2="${y(limit)}" stroke="#cf222e" stroke-dasharray="3 3"/>` : ''}<polyline fill="none" stroke="${over ? '#cf222e' : '#0969da'}" stroke-width="1.5" points="${pts.join(' ')}"/></svg>`;
};

const badge = (kind: 'ok' | 'late' | 'bad' | 'none', text: string) =>
  `<span class="badge b-${kind}">${esc(text)}</span>`;

const backupCell = (r: EvidenceRow): string => {
  const b = r.backups;
  if (!b)
    return r.coveredBy
      ? `<span class="muted">replica of ${esc(r.replicaOf)}</span>`
      : badge('none', 'UNPROTECTED');
  if (b.scheduled === null) return `${b.taken} <span class="muted">(rate schedule)</span>`;
  const kind = b.missed.length === 0 ? 'ok' : b.taken === 0 ? 'bad' : 'late';
  return `${badge(kind, `${b.taken} / ${b.scheduled}`)}`;
};

/** An EC2 instance's dump objects retention deleted: beside its snapshots, never among them. */
const dumpsCell = (r: EvidenceRow): string => {
  const d = r.retention.dumps;
  if (!d) return '';
  const failed = d.failed ? ` <span class="bad">(${d.failed} failed)</span>` : '';
  return `<br><span class="muted">${d.deleted} dump${d.deleted === 1 ? '' : 's'}</span>${failed}`;
};

const missedCell = (r: EvidenceRow): string => {
  const b = r.backups;
  if (!b) return '';
  const parts: string[] = [];
  if (b.missed.length) {
    const shown = b.missed.slice(0, 6).map(minute).map(esc).join('<br>');
    parts.push(
      `<span class="bad">${shown}${b.missed.length > 6 ? `<br>… ${b.missed.length - 6} more` : ''}</span>`,
    );
  }
  if (b.countedFrom)
    parts.push(
      `<span class="muted">counted from ${esc(minute(b.countedFrom.at))} (${esc(b.countedFrom.why)})</span>`,
    );
  if (b.unscheduled) parts.push(`<span class="muted">${b.unscheduled} outside the schedule</span>`);
  if (b.pending?.length) parts.push(`<span class="late">${b.pending.length} not judged yet</span>`);
  return parts.join('<br>') || '<span class="ok">none</span>';
};

const vsTarget = (v: number | undefined, target: number | undefined, met: boolean | undefined) =>
  v === undefined
    ? '<span class="muted">not measured</span>'
    : `<span class="${met === false ? 'bad' : 'ok'}">${esc(dur(v))}</span>${target !== undefined ? ` <span class="muted">/ ${esc(dur(target))}</span>` : ''}`;

/** Instance-hours and the estimated cost of a drill copy ("1.5 h, ~$0.27"). */
const costText = (c: { instanceHours: number; estimatedUsd?: number }, unit = 'h'): string =>
  `${c.instanceHours} ${unit}${c.estimatedUsd !== undefined ? `, ~$${c.estimatedUsd.toFixed(2)}` : ''}`;

const costCell = (c: DrillSummary['cost']): string => (c ? esc(costText(c)) : '<span class="muted">–</span>');

const drillRows = (rows: readonly EvidenceRow[]): string => {
  const drills = rows.flatMap((r) => r.drills);
  if (!drills.length) return '<p class="muted">No drill ran this month.</p>';
  const line = (d: DrillSummary) => {
    const passedChecks = d.checks.filter((c) => c.passed).length;
    const checks = d.checks.length
      ? `<details><summary>${passedChecks} / ${d.checks.length} passed</summary><ul class="checks">${d.checks
          .map(
            (c) =>
              `<li class="${c.passed ? 'ok' : 'bad'}">${c.passed ? '✓' : '✗'} ${esc(c.name)}: <span class="muted">${esc(c.detail)}</span></li>`,
          )
          .join('')}</ul></details>`
      : '<span class="muted">not verified</span>';
    const outcome = drillOutcome(d);
    const verdict =
      outcome === 'passed'
        ? badge('ok', 'PASSED')
        : outcome === 'inconclusive'
          ? `${badge('late', 'INCONCLUSIVE')}<br><span class="late">${esc(d.gaps?.[0] ?? d.summary)}</span>`
          : `${badge('bad', 'FAILED')}<br><span class="bad">${esc(d.failedStep ? `at ${d.failedStep}: ` : '')}${esc(d.reasons[0] ?? d.summary)}</span>`;
    return `<tr><td>${esc(d.database)}</td><td>${esc(minute(d.startedAt))}</td><td>${verdict}</td><td class="n">${vsTarget(d.rtoSeconds, d.rtoTargetSeconds, d.rtoMet)}</td><td class="n">${vsTarget(d.rpoSeconds, d.rpoTargetSeconds, d.rpoMet)}</td><td>${checks}</td><td class="n">${costCell(d.cost)}</td><td class="muted">${esc(d.snapshotId ?? '')}</td></tr>`;
  };
  return `<table data-table="drills"><thead><tr><th>Database</th><th>Started</th><th>Verdict</th><th class="n">RTO / target</th><th class="n">RPO / target</th><th>Checks</th><th class="n">Copy cost</th><th>Restored from</th></tr></thead><tbody>${drills
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt))
    .map(line)
    .join('')}</tbody></table>`;
};

/** The drill targets' scheduled drills that did not run, by name and time. */
const missedDrills = (rows: readonly EvidenceRow[]): string => {
  const missed = rows.flatMap((r) => (r.drillsMissed ?? []).map((t) => `${esc(r.id)} ${esc(minute(t))}`));
  return missed.length ? `<p class="late">Scheduled drills that did not run: ${missed.join(', ')}.</p>` : '';
};

const trendCharts = (r: EvidenceReport): string => {
  const dbs = Object.keys(r.trend).sort();
  if (!dbs.length) return '<p class="muted">No drills on record in the trend window.</p>';
  const months = r.trendMonths;
  const first = Date.parse(`${months[0]}-01T00:00:00Z`);
  const lastMonth = months[months.length - 1]!;
  const last = Date.UTC(Number(lastMonth.slice(0, 4)), Number(lastMonth.slice(5, 7)), 1);
  const xLabels = months
    .filter((_, i) => months.length <= 6 || i % 2 === months.length % 2)
    .map((m) => ({ x: Date.parse(`${m}-15T00:00:00Z`), text: m.slice(2).replace('-', '/') }));
  const figure = (db: string, metric: 'rto' | 'rpo') => {
    const points = r.trend[db]!.flatMap((d) => {
      const v = metric === 'rto' ? d.rtoSeconds : d.rpoSeconds;
      const t = metric === 'rto' ? d.rtoTargetSeconds : d.rpoTargetSeconds;
      return v === undefined
        ? []
        : [
            {
              x: Date.parse(d.startedAt),
              y: v,
              ok: d.passed && (t === undefined || v <= t),
              label: `${day(d.startedAt)}: ${metric.toUpperCase()} ${shortDuration(v)}${t !== undefined ? ` (target ${shortDuration(t)})` : ''}${d.passed ? '' : `, drill ${drillOutcome(d)}`}`,
            },
          ];
    });
    const targets = r.trend[db]!.map((d) =>
      metric === 'rto' ? d.rtoTargetSeconds : d.rpoTargetSeconds,
    ).filter((t): t is number => t !== undefined);
    const target = targets.length ? targets[targets.length - 1] : undefined;
    const name = metric.toUpperCase();
    return `<figure>${chart({
      kind: metric,
      title: `${name} of ${db} per drill, ${months[0]} to ${lastMonth}`,
      series: [{ name, colour: metric === 'rto' ? '#0969da' : '#8250df', points }],
      xMin: first,
      xMax: last,
      xLabels,
      yUnit: (v) => shortDuration(v),
      ...(target !== undefined ? { target } : {}),
    })}<figcaption><b>${esc(db)}</b>: ${name} per drill (${points.length} measured); red points missed the target or failed.</figcaption></figure>`;
  };
  return `<div class="charts">${dbs.map((db) => figure(db, 'rto') + figure(db, 'rpo')).join('')}</div>`;
};

const drLagChart = (r: EvidenceReport, limitSeconds: number | undefined): string => {
  const rows = r.databases.filter((d) => d.dr);
  if (!rows.length) return '<p class="muted">No policy copies to a DR region.</p>';
  const days = Math.max(...rows.map((d) => d.dr!.lagByDay.length));
  const worst = Array.from({ length: days }, (_, i) => {
    const vs = rows.map((d) => d.dr!.lagByDay[i]).filter((v): v is number => v !== null && v !== undefined);
    return vs.length ? Math.max(...vs) : null;
  });
  const points = worst.flatMap((v, i) =>
    v === null
      ? []
      : [
          {
            x: i + 1,
            y: v,
            ok: limitSeconds === undefined || v <= limitSeconds,
            label: `${r.month}-${String(i + 1).padStart(2, '0')}: worst DR lag ${shortDuration(v)}`,
          },
        ],
  );
  const xLabels = [1, 8, 15, 22, 29].filter((d) => d <= days).map((d) => ({ x: d, text: String(d) }));
  return `<figure>${chart({
    kind: 'dr-lag',
    title: `Worst DR lag per day across ${rows.length} databases, ${r.month}`,
    series: [{ name: 'worst DR lag', colour: '#0969da', points }],
    xMin: 1,
    xMax: Math.max(2, days),
    xLabels,
    yUnit: (v) => shortDuration(v),
    width: 1100,
    height: 230,
    ...(limitSeconds !== undefined ? { target: limitSeconds } : {}),
  })}<figcaption>Age of the newest data in ${esc(r.drRegion ?? 'the DR region')} at the end of each day, worst database; dashed: one daily backup plus the DR grace.</figcaption></figure>`;
};

/**
 * The evidence report as one self-contained HTML page: inline CSS and SVG, no scripts, no external
 * resources, so it can be archived, mailed and opened offline. Pure.
 */
export const renderEvidenceHtml = (
  r: EvidenceReport,
  opts: { drLagLimitSeconds?: number; sources?: string[] } = {},
): string => {
  const s = r.summary;
  const card = (value: string, label: string, cls = '') =>
    `<div class="card"><div class="v ${cls}">${value}</div><div class="l">${esc(label)}</div></div>`;
  const drillsOk = s.drills && s.drillsPassed === s.drills;
  const backupRows = r.databases
    .map((d) => {
      const lag = d.dr
        ? `${sparkline(d.dr.lagByDay, opts.drLagLimitSeconds)}<br><span class="muted">max ${esc(dur(d.dr.maxLagSeconds))}</span>`
        : '<span class="muted">–</span>';
      const copies = d.dr
        ? `${d.dr.copies}${d.dr.notCopied.length ? ` <span class="bad">(${d.dr.notCopied.length} not copied)</span>` : ''}${d.dr.pending?.length ? ` <span class="late">(${d.dr.pending.length} not judged yet)</span>` : ''}`
        : '<span class="muted">–</span>';
      return `<tr><td><b>${esc(d.id)}</b><br><span class="muted">${esc(d.kind)}, ${esc(d.engine)}</span></td><td>${d.policy ? esc(d.policy) : '<span class="muted">–</span>'}<br><code class="muted">${esc(d.backups?.schedule ?? '')}</code></td><td class="n">${backupCell(d)}</td><td>${missedCell(d)}</td><td class="n">${d.backups?.adhoc ?? '–'}</td><td class="n">${copies}</td><td>${lag}</td><td class="n">${d.retention.deleted}${d.retention.failed ? ` <span class="bad">(${d.retention.failed} failed)</span>` : ''}${dumpsCell(d)}</td></tr>`;
    })
    .join('');
  const unprotected = r.databases.filter((d) => !d.policy && !d.coveredBy);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Recovery evidence: ${esc(r.stage)}, ${esc(monthName(r.month))}</title><style>${CSS}</style></head>
<body><main>
<header><h1>Recovery evidence — ${esc(r.stage)}, ${esc(monthName(r.month))}</h1>
<div class="meta">Backups, DR copies, retention and restore drills of every database in ${r.account ? `account ${esc(r.account)}, ` : ''}${esc(r.region)}${r.drRegion ? ` (DR region ${esc(r.drRegion)})` : ''}. Generated ${esc(minute(r.generatedAt))} by steward${r.complete ? '' : ' — <b>the month is not over: partial</b>'}.</div></header>
<section><h2>Summary</h2><div class="cards">
${card(`${s.protected} / ${s.databases}`, 'databases protected', s.unprotected ? 'late' : 'ok')}
${card(`${s.backupsTaken} / ${s.backupsScheduled}`, `scheduled backups taken (${pct(s.backupsTaken, s.backupsScheduled)})`, s.backupsMissed ? 'bad' : 'ok')}
${card(String(s.drCopies), `DR copies${s.drCopiesMissing ? `, ${s.drCopiesMissing} missing` : ''}`, s.drCopiesMissing ? 'bad' : '')}
${card(`${s.drillsPassed} / ${s.drills}`, `restore drills passed${s.drillsInconclusive ? `, ${s.drillsInconclusive} inconclusive` : ''}${s.drillsMissed ? `, ${s.drillsMissed} scheduled not run` : ''}`, s.drills === 0 ? 'late' : drillsOk ? (s.drillsMissed ? 'late' : 'ok') : s.drillsPassed + s.drillsInconclusive === s.drills ? 'late' : 'bad')}
${s.drills ? card(s.drillEstimatedUsd !== undefined ? `~$${s.drillEstimatedUsd.toFixed(2)}` : '–', `drill copies: ${costText({ instanceHours: s.drillInstanceHours }, 'instance-hours')}, estimated`) : ''}
${card(String(s.retentionDeleted), 'snapshots expired by retention')}
</div></section>
<section><h2>Restore drills: RTO and RPO over time</h2>${trendCharts(r)}</section>
<section><h2>Restore drills this month</h2>${drillRows(r.databases)}${missedDrills(r.databases)}</section>
<section><h2>DR lag</h2>${drLagChart(r, opts.drLagLimitSeconds)}</section>
<section><h2>Backups per database</h2>
<table data-table="backups"><thead><tr><th>Database</th><th>Policy</th><th class="n">Taken / scheduled</th><th>Missed</th><th class="n">Pre-change</th><th class="n">DR copies</th><th>DR lag per day</th><th class="n">Expired</th></tr></thead><tbody>${backupRows}</tbody></table>
${unprotected.length ? `<p class="late">Not protected (no <code>steward:backup</code> tag): ${unprotected.map((d) => esc(d.id)).join(', ')}.</p>` : ''}</section>
<section><h2>How this is counted</h2><ul class="notes">
<li>Scheduled backups are the fire times of each policy's schedule in the month (from the database's creation or its first backup on record, and up to the backup grace before generation). One is taken when a steward snapshot holds data from 5 minutes before to 60 minutes after it — still listed, or deleted since by retention and recorded then. An EC2 instance's dump objects are not snapshots: their deletions are shown apart and never count as a backup taken.</li>
<li>DR lag at the end of a day is the age of the newest data copied to the DR region by then (copy start time); a backup counts as not copied when no copy exists once the DR grace has passed.</li>
<li>Drills are read from the drill reports in the report bucket; RTO runs from drill start to verification finished, RPO from the restored snapshot or point in time to the newest restored row. A drill target's scheduled drill (its schedule's fire times in the month, up to the drill grace before generation) did not run when no drill started from an hour before it to the grace after.</li>
${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}
</ul></section>
<footer>steward evidence report ${esc(r.month)} · ${esc(r.stage)} · ${r.account ? `${esc(r.account)}/` : ''}${esc(r.region)}${opts.sources?.length ? ` · machine-readable: ${opts.sources.map(esc).join(', ')}` : ''}</footer>
</main></body></html>
`;
};

const csvCell = (v: unknown): string => {
  const text = v === undefined || v === null ? '' : String(v);
  // Text a spreadsheet would run as a formula (a tag value, a check's detail) is led by a quote: it stays
  // data (OWASP, CSV injection). Numbers are written as they are.
  const s = typeof v === 'string' && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csv = (header: string[], rows: unknown[][]) =>
  [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';

/** One row per database (RFC 4180). */
export const renderDatabasesCsv = (r: EvidenceReport): string =>
  csv(
    [
      'month',
      'database',
      'kind',
      'engine',
      'policy',
      'schedule',
      'scheduled',
      'taken',
      'missed',
      'unscheduled',
      'pre_change',
      'dr_copies',
      'dr_not_copied',
      'dr_max_lag_seconds',
      'retention_deleted',
      'retention_failed',
      'dumps_deleted',
      'dumps_failed',
      'drills',
      'drills_passed',
    ],
    r.databases.map((d) => [
      r.month,
      d.id,
      d.kind,
      d.engine,
      d.policy ?? (d.coveredBy ? `replica of ${d.replicaOf}` : 'UNPROTECTED'),
      d.backups?.schedule,
      d.backups?.scheduled,
      d.backups?.taken,
      d.backups?.missed.length,
      d.backups?.unscheduled,
      d.backups?.adhoc,
      d.dr?.copies,
      d.dr?.notCopied.length,
      d.dr?.maxLagSeconds,
      d.retention.deleted,
      d.retention.failed,
      d.retention.dumps?.deleted,
      d.retention.dumps?.failed,
      d.drills.length,
      d.drills.filter((x) => x.passed).length,
    ]),
  );

/** One row per drill of the month (RFC 4180). */
export const renderDrillsCsv = (r: EvidenceReport): string =>
  csv(
    [
      'month',
      'database',
      'drill_id',
      'started_at',
      'passed',
      'outcome',
      'failed_step',
      'rto_seconds',
      'rto_target_seconds',
      'rpo_seconds',
      'rpo_target_seconds',
      'checks',
      'checks_passed',
      'snapshot',
      'reason',
      'instance_hours',
      'estimated_usd',
    ],
    r.databases.flatMap((d) =>
      d.drills.map((x) => [
        r.month,
        d.id,
        x.drillId,
        x.startedAt,
        x.passed,
        drillOutcome(x),
        x.failedStep,
        x.rtoSeconds,
        x.rtoTargetSeconds,
        x.rpoSeconds,
        x.rpoTargetSeconds,
        x.checks.length,
        x.checks.filter((c) => c.passed).length,
        x.snapshotId,
        x.passed ? '' : ((drillOutcome(x) === 'inconclusive' ? x.gaps?.[0] : x.reasons[0]) ?? x.summary),
        x.cost?.instanceHours,
        x.cost?.estimatedUsd,
      ]),
    ),
  );
