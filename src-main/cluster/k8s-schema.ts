// A small zod schema of the Kubernetes API fields the sweep manifests use (core/v1 PersistentVolumeClaim and
// ConfigMap, batch/v1 Job), written from the Kubernetes API reference: object names are DNS-1123 subdomains,
// container and volume names DNS-1123 labels, quantities match the resource.Quantity grammar, an Indexed Job
// needs completions, backoffLimitPerIndex needs completionMode Indexed, maxFailedIndexes needs
// backoffLimitPerIndex and is at most completions, a Job's pods restart Never or OnFailure, every volumeMount
// names a volume of the pod. Strict objects: a misspelled field fails, as kubectl's strict field validation does.
import { z } from 'zod';

const dns1123Label = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 label');
const dns1123Subdomain = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'a DNS-1123 subdomain');
const quantity = z.string().regex(/^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/, 'a resource quantity');
const labelKey = z
  .string()
  .regex(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
    'a label key',
  );
const labelValue = z.string().regex(/^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/, 'a label value');

const objectMeta = z
  .object({ name: dns1123Subdomain, namespace: dns1123Label.optional(), labels: z.record(labelKey, labelValue).optional() })
  .strict();
const resources = z
  .object({ requests: z.record(z.string(), quantity).optional(), limits: z.record(z.string(), quantity).optional() })
  .strict();

export const pvcSchema = z
  .object({
    apiVersion: z.literal('v1'),
    kind: z.literal('PersistentVolumeClaim'),
    metadata: objectMeta,
    spec: z
      .object({
        accessModes: z.array(z.enum(['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'])).min(1),
        resources: z.object({ requests: z.object({ storage: quantity }).strict() }).strict(),
        storageClassName: z.string().optional(),
      })
      .strict(),
  })
  .strict();

export const configMapSchema = z
  .object({
    apiVersion: z.literal('v1'),
    kind: z.literal('ConfigMap'),
    metadata: objectMeta,
    data: z.record(z.string().regex(/^[-._a-zA-Z0-9]+$/, 'a ConfigMap key'), z.string()),
  })
  .strict()
  .refine((c) => Object.entries(c.data).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v), 0) <= 1024 * 1024, {
    message: 'a ConfigMap holds at most 1 MiB',
  });

const container = z
  .object({
    name: dns1123Label,
    image: z.string().min(1),
    command: z.array(z.string()).optional(),
    args: z.array(z.string()).optional(),
    env: z.array(z.object({ name: z.string().regex(/^[-._a-zA-Z][-._a-zA-Z0-9]*$/), value: z.string() }).strict()).optional(),
    resources: resources.optional(),
    volumeMounts: z
      .array(z.object({ name: dns1123Label, mountPath: z.string().startsWith('/'), readOnly: z.boolean().optional() }).strict())
      .optional(),
  })
  .strict();

const volume = z
  .object({
    name: dns1123Label,
    persistentVolumeClaim: z.object({ claimName: dns1123Subdomain, readOnly: z.boolean().optional() }).strict().optional(),
    configMap: z.object({ name: dns1123Subdomain }).strict().optional(),
  })
  .strict()
  .refine((v) => (v.persistentVolumeClaim ? 1 : 0) + (v.configMap ? 1 : 0) === 1, { message: 'a volume has exactly one source' });

const podSpec = z
  .object({ restartPolicy: z.enum(['Never', 'OnFailure']), containers: z.array(container).min(1), volumes: z.array(volume).optional() })
  .strict()
  .refine((p) => p.containers.every((c) => (c.volumeMounts ?? []).every((m) => (p.volumes ?? []).some((v) => v.name === m.name))), {
    message: 'every volumeMount names a volume of the pod',
  });

export const jobSchema = z
  .object({
    apiVersion: z.literal('batch/v1'),
    kind: z.literal('Job'),
    metadata: objectMeta,
    spec: z
      .object({
        completionMode: z.enum(['NonIndexed', 'Indexed']).optional(),
        completions: z.number().int().min(0).optional(),
        parallelism: z.number().int().min(0).optional(),
        backoffLimit: z.number().int().min(0).optional(),
        backoffLimitPerIndex: z.number().int().min(0).optional(),
        maxFailedIndexes: z.number().int().min(0).optional(),
        template: z
          .object({
            metadata: z
              .object({ labels: z.record(labelKey, labelValue).optional() })
              .strict()
              .optional(),
            spec: podSpec,
          })
          .strict(),
      })
      .strict()
      .refine((s) => s.completionMode !== 'Indexed' || s.completions !== undefined, { message: 'an Indexed Job needs completions' })
      .refine((s) => s.backoffLimitPerIndex === undefined || s.completionMode === 'Indexed', {
        message: 'backoffLimitPerIndex needs completionMode Indexed',
      })
      .refine(
        (s) => s.maxFailedIndexes === undefined || (s.backoffLimitPerIndex !== undefined && s.maxFailedIndexes <= (s.completions ?? 0)),
        {
          message: 'maxFailedIndexes needs backoffLimitPerIndex and is at most completions',
        },
      ),
  })
  .strict();

/** The manifest for its kind, or a zod error naming the field. */
export function checkManifest(m: Record<string, unknown>): void {
  const schema =
    m.kind === 'Job' ? jobSchema : m.kind === 'ConfigMap' ? configMapSchema : m.kind === 'PersistentVolumeClaim' ? pvcSchema : null;
  if (!schema) throw new Error(`unexpected manifest kind ${String(m.kind)}`);
  schema.parse(m);
}
