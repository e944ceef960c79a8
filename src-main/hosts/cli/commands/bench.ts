// `vae-workbench bench [--json] [--steps N] [--quick] [--time-to-result [--preset ID] | --data-parallel]`: the benchmarks (src-main/bench/).
import { parseFlags } from '../args';
import { out } from '../output';

export async function benchCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('bench', args);
  const { runBench } = await import('../../../bench/bench');
  const result = await runBench({
    steps: values.steps ? Number(values.steps) : undefined,
    quick: !!values.quick,
    onlyTimeToResult: !!values['time-to-result'],
    onlyDataParallel: !!values['data-parallel'],
    preset: typeof values.preset === 'string' ? values.preset : undefined,
    log: (m: string) => process.stderr.write(m + '\n'),
  });
  out(values.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
  return 0;
}
