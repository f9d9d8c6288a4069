import type { PipelineStats, StageName } from '@face-stylizer/sdk';

/** Stages in pipeline order, with what each one measures. */
const STAGES: readonly [StageName, string][] = [
  ['upload', 'upload'],
  ['tracking', 'tracking'],
  ['alignment', 'alignment'],
  ['crop', 'crop'],
  ['readback', 'crop readback'],
  ['idle', 'model idle'],
  ['encoder', 'encoder'],
  ['generator', 'generator'],
  ['colour', 'colour'],
  ['blend', 'blend'],
  ['frame', 'frame total'],
];

/** The fps and per-stage latency overlay, as monospace text. */
export function formatStats(stats: PipelineStats): string {
  const lines = [
    `${stats.fps.displayed.toFixed(1).padStart(5)} fps displayed`,
    `${stats.fps.stylized.toFixed(1).padStart(5)} fps stylized`,
    `faces ${stats.faces} · ${stats.executionProvider}`,
    '',
    'stage         p50    p95 ms',
  ];
  for (const [stage, label] of STAGES) {
    const timing = stats.stages[stage];
    if (!timing) continue;
    lines.push(`${label.padEnd(11)} ${timing.p50.toFixed(1).padStart(6)} ${timing.p95.toFixed(1).padStart(6)}`);
  }
  const dropped = Object.entries(stats.dropped);
  if (dropped.length > 0) lines.push('', `dropped ${dropped.map(([stage, count]) => `${stage} ${count}`).join(', ')}`);
  return lines.join('\n');
}
