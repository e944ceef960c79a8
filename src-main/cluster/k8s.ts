// The same sweep on Kubernetes, on paper: a PersistentVolumeClaim for the shared sweep folder (ReadWriteMany, as
// every pod writes its own task folder into it), a ConfigMap with the validated configurations, and an Indexed Job
// whose pod i runs `train --config <i>.json` into /sweep/tasks/<i>/home and writes the same completion marker as
// the Slurm task script. Nothing here talks to a cluster; `vae-workbench sweep --on k8s --dry-run` prints it.
import type { K8sOptions } from '@shared/cluster-types';

export type Manifest = Record<string, unknown>;

export const SHARED_MOUNT = '/sweep';
export const CONFIG_MOUNT = '/sweep-configs';

/** A DNS-1123 label from a sweep name: lower case, digits and '-', at most `max` characters. */
export function dnsLabel(name: string, max = 40): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return s || 'sweep';
}

function taskScript(appDir: string): string {
  return [
    'set -u',
    'i="$JOB_COMPLETION_INDEX"',
    `task="${SHARED_MOUNT}/tasks/$i"`,
    `mkdir -p "$task/home" "${SHARED_MOUNT}/logs" && rm -f "$task/exit"`,
    `VAE_WORKBENCH_HOME="$task/home" node ${appDir}/bin/vae-workbench.js train --config "${CONFIG_MOUNT}/$i.json" --json >"$task/result.json" 2>"${SHARED_MOUNT}/logs/$i.log"`,
    'rc=$?',
    `cat "${SHARED_MOUNT}/logs/$i.log" >&2`,
    'echo "$rc" >"$task/exit.tmp" && mv -f "$task/exit.tmp" "$task/exit"',
    'exit "$rc"',
  ].join('\n');
}

export function renderK8sSweep(name: string, configs: Record<string, unknown>[], opts: K8sOptions): Manifest[] {
  const base = `vaewb-${dnsLabel(name)}`;
  const labels = { 'app.kubernetes.io/name': 'vae-workbench', 'app.kubernetes.io/component': 'sweep', 'vae-workbench/sweep': base };
  const meta = (suffix: string) => ({ name: `${base}-${suffix}`, namespace: opts.namespace, labels });
  const pvc: Manifest = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: meta('shared'),
    spec: {
      accessModes: ['ReadWriteMany'],
      resources: { requests: { storage: opts.storage } },
      ...(opts.storageClassName ? { storageClassName: opts.storageClassName } : {}),
    },
  };
  const configMap: Manifest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta('configs'),
    data: Object.fromEntries(configs.map((c, i) => [`${i}.json`, JSON.stringify(c, null, 2)])),
  };
  const limits: Record<string, string> = { memory: opts.mem };
  if (opts.gpus > 0) limits['nvidia.com/gpu'] = String(opts.gpus);
  const job: Manifest = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta('train'),
    spec: {
      completionMode: 'Indexed',
      completions: configs.length,
      parallelism: Math.min(opts.maxParallel ?? configs.length, configs.length),
      // One try per configuration; a failed index does not stop the others (Kubernetes >= 1.29).
      backoffLimitPerIndex: 0,
      maxFailedIndexes: configs.length,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'train',
              image: opts.image,
              command: ['/bin/sh', '-c', taskScript(opts.appDir)],
              resources: { requests: { cpu: String(opts.cpus), memory: opts.mem }, limits },
              volumeMounts: [
                { name: 'shared', mountPath: SHARED_MOUNT },
                { name: 'configs', mountPath: CONFIG_MOUNT, readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'shared', persistentVolumeClaim: { claimName: `${base}-shared` } },
            { name: 'configs', configMap: { name: `${base}-configs` } },
          ],
        },
      },
    },
  };
  return [pvc, configMap, job];
}

// ---------------------------------------------------------------- YAML (JSON-shaped values only)

function yamlKey(k: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(k) ? k : JSON.stringify(k);
}

function yamlScalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(String(v));
}

function yamlBlock(v: unknown, indent: string): string[] {
  if (Array.isArray(v)) {
    if (!v.length) return [`${indent}[]`];
    return v.flatMap((item) => {
      const lines = yamlBlock(item, indent + '  ');
      if (item !== null && typeof item === 'object' && lines.length) return [`${indent}- ${lines[0]!.trimStart()}`, ...lines.slice(1)];
      return [`${indent}- ${yamlScalar(item)}`];
    });
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    if (!entries.length) return [`${indent}{}`];
    return entries.flatMap(([k, val]) => {
      if (typeof val === 'string' && val.includes('\n'))
        return [`${indent}${yamlKey(k)}: |-`, ...val.split('\n').map((l) => (l ? `${indent}  ${l}` : ''))];
      if (val !== null && typeof val === 'object' && Object.keys(val).length)
        return [`${indent}${yamlKey(k)}:`, ...yamlBlock(val, indent + '  ')];
      return [`${indent}${yamlKey(k)}: ${val !== null && typeof val === 'object' ? (Array.isArray(val) ? '[]' : '{}') : yamlScalar(val)}`];
    });
  }
  return [`${indent}${yamlScalar(v)}`];
}

/** Manifests as a multi-document YAML stream (strings double-quoted, multi-line strings as literal blocks). */
export function toYaml(manifests: Manifest[]): string {
  return manifests.map((m) => yamlBlock(m, '').join('\n')).join('\n---\n') + '\n';
}
