// `runs --metric 'test/loss<130'`: one final-metric filter of runs.list ({key, op, value}, src-shared/contract.ts) from
// its command-line form `<metric><op><number>`, op one of < <= > >= = != (spaces allowed around the op).
import { METRIC_FILTER_OPS, type MetricFilter } from '@shared/contract';
import { UsageError } from './args';

const PATTERN = /^\s*([^<>=!\s]+)\s*(<=|>=|!=|<|>|=)\s*(\S+)\s*$/;

export function parseMetricFilter(text: string): MetricFilter {
  const m = PATTERN.exec(text);
  const value = m ? Number(m[3]) : NaN;
  if (!m || !Number.isFinite(value) || !(METRIC_FILTER_OPS as readonly string[]).includes(m[2]!))
    throw new UsageError(
      `--metric "${text}": expected <metric><op><number>, e.g. 'test/loss<130' or 'test/activeUnits>=5' (op: ${METRIC_FILTER_OPS.join(' ')})`,
    );
  return { key: m[1]!, op: m[2] as MetricFilter['op'], value };
}
