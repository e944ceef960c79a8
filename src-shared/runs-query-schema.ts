// The runs query of the API contract (contract.ts): the filters of runs.list (status, tag, text, hyperparameter ranges,
// final-metric conditions), its sort and paging, and a selection of runs by id or by filter (runs.delete,
// runs.export). Pure zod, no Node imports: the renderer imports it through the contract.
import { z } from 'zod';
import { LIMITS } from './limits';
import { RUN_STATUSES } from './model-types';

const runId = z.number().int().positive();
/** Runs named by id in one call: at most 200. */
export const runIds = z.array(runId).min(1).max(200);
const runStatus = z.enum(RUN_STATUSES);

/** The comparison operators of a metric filter (`runs.list` `metrics`, CLI `runs --metric 'test/loss<130'`). */
export const METRIC_FILTER_OPS = ['<', '<=', '>', '>=', '=', '!='] as const;
export const metricFilterSchema = z
  .object({
    /** A metric name as in `final` (e.g. `test/loss`, `test/activeUnits`). */
    key: z.string().min(1).max(200),
    op: z.enum(METRIC_FILTER_OPS),
    value: z.number().finite(),
  })
  .strict();
export type MetricFilter = z.infer<typeof metricFilterSchema>;

/** The filters of a runs query (no sort, no paging): also what a selection "every matching run" is. */
export const runFilter = z
  .object({
    /** Only these runs (e.g. the runs of a comparison), in the query's sort order. */
    ids: z.array(runId).max(10000).optional(),
    status: z.array(runStatus).optional(),
    tag: z.string().optional(),
    text: z.string().optional(),
    params: z
      .array(
        z.object({
          key: z.string(),
          min: z.number().optional(),
          max: z.number().optional(),
          equals: z.union([z.string(), z.number()]).optional(),
        }),
      )
      .max(LIMITS.LIST_MAX_PARAM_FILTERS, `at most ${LIMITS.LIST_MAX_PARAM_FILTERS} params filters (LIST_MAX_PARAM_FILTERS)`)
      .optional(),
    /**
     * Final-metric filters, ANDed with everything else: `{key: 'test/loss', op: '<', value: 130}` keeps runs whose last
     * value of that metric (`final` in the summary) satisfies `final[key] op value`; a run without that metric is left out.
     */
    metrics: z
      .array(metricFilterSchema)
      .max(LIMITS.LIST_MAX_METRIC_FILTERS, `at most ${LIMITS.LIST_MAX_METRIC_FILTERS} metrics filters (LIST_MAX_METRIC_FILTERS)`)
      .optional(),
  })
  .strict();
export type RunFilter = z.infer<typeof runFilter>;

export const listQuery = runFilter
  .extend({
    sort: z.object({ key: z.string(), dir: z.enum(['asc', 'desc']) }).optional(),
    limit: z.number().int().positive().max(10000).optional(),
    offset: z.number().int().min(0).optional(),
  })
  .strict()
  .default({});

/**
 * Runs named by id (at most 200), or every run a filter matches (any number, resolved by the service's query) with the
 * count the user confirmed: when the filter matches another number of runs by then, nothing is deleted.
 */
export const runSelection = z
  .object({ runIds: runIds.optional(), matching: runFilter.optional(), count: z.number().int().min(0).optional() })
  .strict()
  .refine((v) => (v.runIds === undefined) !== (v.matching === undefined), {
    message: 'give either runIds or matching (a runs filter), not both',
  })
  .refine((v) => v.matching === undefined || v.count !== undefined, {
    message: 'count: deleting by a filter needs the number of runs confirmed',
    path: ['count'],
  });
