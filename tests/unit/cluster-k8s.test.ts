// The sweep as Kubernetes manifests (PersistentVolumeClaim, ConfigMap, Indexed Job), checked against a zod schema
// of the fields used, written from the Kubernetes API reference; and the schema itself catches the mistakes it is for.
import { describe, expect, it } from 'vitest';
import { expandSweep } from '@shared/sweep-expand';
import { renderK8sSweep, toYaml } from '../../src-main/cluster/k8s';
import { checkManifest, jobSchema } from '../../src-main/cluster/k8s-schema';
import { k8sOptionsSchema } from '@shared/cluster-types';

const configs = expandSweep({ name: 'Conv VAE grid', data: { dataset: 'mnist' } }, [
  { key: 'model.latentDim', values: [2, 8] },
  { key: 'optimizer.learningRate', values: [0.001, 0.0003] },
]);

describe('Kubernetes manifests of a sweep', () => {
  const manifests = renderK8sSweep('Conv VAE grid', configs, k8sOptionsSchema.parse({ gpus: 1, maxParallel: 2 }));

  it('are a claim, a config map with every configuration and an Indexed Job with one index per configuration', () => {
    expect(manifests.map((m) => m.kind)).toEqual(['PersistentVolumeClaim', 'ConfigMap', 'Job']);
    for (const m of manifests) checkManifest(m);
    const job = jobSchema.parse(manifests[2]);
    expect(job.spec.completionMode).toBe('Indexed');
    expect(job.spec.completions).toBe(4);
    expect(job.spec.parallelism).toBe(2);
    expect(job.metadata.name).toBe('vaewb-conv-vae-grid-train');
    const data = (manifests[1] as { data: Record<string, string> }).data;
    expect(Object.keys(data)).toEqual(['0.json', '1.json', '2.json', '3.json']);
    expect(JSON.parse(data['3.json']!)).toEqual(configs[3]);
    const c = job.spec.template.spec.containers[0]!;
    expect(c.resources?.limits?.['nvidia.com/gpu']).toBe('1');
    expect(c.command?.[2]).toContain('train --config "/sweep-configs/$i.json"');
    expect((manifests[0] as { spec: { accessModes: string[] } }).spec.accessModes).toEqual(['ReadWriteMany']);
  });

  it('print as a three-document YAML stream', () => {
    const yaml = toYaml(manifests);
    expect(yaml.split('\n---\n')).toHaveLength(3);
    expect(yaml).toContain('  completionMode: "Indexed"');
    expect(yaml).toContain('      - name: "train"');
    expect(yaml).toContain('  0.json: |-');
  });

  it('the schema refuses what the API server would', () => {
    const job = structuredClone(manifests[2]) as {
      spec: Record<string, unknown> & { template: { spec: { volumes: unknown[]; restartPolicy: string } } };
    };
    expect(jobSchema.safeParse({ ...job, spec: { ...job.spec, completions: undefined } }).success).toBe(false);
    expect(jobSchema.safeParse({ ...job, spec: { ...job.spec, completionMode: 'NonIndexed' } }).success).toBe(false);
    expect(jobSchema.safeParse({ ...job, spec: { ...job.spec, paralelism: 2 } }).success).toBe(false);
    const noVolumes = structuredClone(job);
    noVolumes.spec.template.spec.volumes = [];
    expect(jobSchema.safeParse(noVolumes).success).toBe(false);
    const always = structuredClone(job);
    always.spec.template.spec.restartPolicy = 'Always';
    expect(jobSchema.safeParse(always).success).toBe(false);
    expect(() => checkManifest({ ...manifests[0]!, metadata: { name: 'Not_A_Name' } })).toThrow();
  });
});
