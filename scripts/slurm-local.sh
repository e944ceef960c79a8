#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the cluster sweep tests and for trying `vae-workbench sweep --on slurm`
# without a real cluster. Installs Debian's slurm-wlm and munge when missing (needs root and apt), writes
# /etc/slurm/slurm.conf for a node called "localhost" with this machine's CPUs and memory, starts munged,
# slurmctld and slurmd, and waits until `sinfo` shows the node idle. Idempotent: run it again and it only checks.
#
#   scripts/slurm-local.sh          install if needed, configure, start, wait
#   scripts/slurm-local.sh --stop   stop the three daemons it started
#
# Accounting is off (AccountingStorageType=accounting_storage/none): `sacct` has nothing to say, and the workbench
# reads task states from squeue/scontrol plus the exit markers its task script writes (see src-main/cluster/README.md).
set -euo pipefail

conf_dir=/etc/slurm
spool=/var/spool/slurm
log_dir=/var/log/slurm
run_dir=/run/slurm

say() { echo "slurm-local: $*" >&2; }

stop() {
  for name in slurmd slurmctld; do
    if [ -f "$run_dir/$name.pid" ]; then kill "$(cat "$run_dir/$name.pid")" 2>/dev/null || true; rm -f "$run_dir/$name.pid"; fi
  done
  if [ -f /run/munge/munged.pid ]; then kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true; fi
  say "stopped"
}

if [ "${1:-}" = "--stop" ]; then stop; exit 0; fi

if [ "$(id -u)" != 0 ]; then say "must run as root (it installs packages and starts system daemons)"; exit 1; fi

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  say "installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq slurm-wlm munge >/dev/null
fi

# Already up? Then nothing to do.
if sinfo -h -N -o '%N %t' 2>/dev/null | grep -Eq '^localhost (idle|mix|alloc)'; then say "already running"; exit 0; fi

cpus=$(nproc --all)
# RealMemory in MiB, a little below what the machine has, as Slurm wants it not above the real value.
mem_mib=$(awk '/MemTotal/ {print int($2 / 1024 * 0.95)}' /proc/meminfo)

mkdir -p "$conf_dir" "$spool/ctld" "$spool/d" "$log_dir" "$run_dir"
chown -R slurm:slurm "$spool/ctld" "$log_dir" 2>/dev/null || true
cat >"$conf_dir/slurm.conf" <<EOF
# Written by scripts/slurm-local.sh: a one-node cluster on localhost.
ClusterName=workbench
SlurmctldHost=localhost
SlurmUser=slurm
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
StateSaveLocation=$spool/ctld
SlurmdSpoolDir=$spool/d
SlurmctldPidFile=$run_dir/slurmctld.pid
SlurmdPidFile=$run_dir/slurmd.pid
SlurmctldLogFile=$log_dir/slurmctld.log
SlurmdLogFile=$log_dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
MaxArraySize=1001
MinJobAge=600
KillWait=10
SlurmdTimeout=120
InactiveLimit=0
MpiDefault=none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mib State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

# munge: a key (the package usually creates one), then the daemon as the munge user.
if [ ! -s /etc/munge/munge.key ]; then
  if command -v mungekey >/dev/null 2>&1; then mungekey --create --force; else dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; fi
  chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
fi
mkdir -p /run/munge /var/log/munge /var/lib/munge && chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "starting munged"
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 1 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
fi
munge -n | unmunge >/dev/null || { say "munged does not answer"; exit 1; }

if ! pgrep -x slurmctld >/dev/null; then say "starting slurmctld"; slurmctld; fi
if ! pgrep -x slurmd >/dev/null; then say "starting slurmd"; slurmd -N localhost; fi

for _ in $(seq 1 120); do
  state=$(sinfo -h -N -o '%t' -n localhost 2>/dev/null || true)
  case "$state" in
    idle|mix|alloc) say "node localhost is $state (CPUs=$cpus RealMemory=${mem_mib}M, partition debug)"; exit 0 ;;
    down*|drain*) scontrol update NodeName=localhost State=RESUME 2>/dev/null || true ;;
  esac
  sleep 0.5
done
say "the node did not become idle; last state '${state:-none}'. Logs: $log_dir/slurmctld.log, $log_dir/slurmd.log"
tail -20 "$log_dir/slurmctld.log" "$log_dir/slurmd.log" >&2 || true
exit 1
