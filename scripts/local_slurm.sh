#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, to try amcli's cluster launcher without a cluster:
#
#   sudo bash scripts/local_slurm.sh start     # writes /etc/slurm/slurm.conf, starts munged,
#                                              # slurmctld and slurmd (needs root)
#   amcli optimize -m hydra/launcher=slurm hydra.launcher.gpus_per_node=0 \
#       hydra.launcher.cpus_per_task=1 hydra.launcher.mem_gb=1 target=angry,sad
#   sudo bash scripts/local_slurm.sh stop
#
# Packages (Debian/Ubuntu): slurmctld slurmd slurm-client munge. One partition, "debug", with
# every CPU and the memory of this machine; no accounting, no cgroups (containers have none);
# KillWait 10 s (the grace between SIGTERM and SIGKILL). `status` prints sinfo.
set -euo pipefail
conf=/etc/slurm/slurm.conf
state=/var/lib/amcli-slurm
case "${1:-start}" in
start)
  for tool in slurmctld slurmd munged sinfo; do
    command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install slurmctld slurmd slurm-client munge" >&2; exit 2; }
  done
  if sinfo -h >/dev/null 2>&1 && sinfo -h -o %T | grep -q idle; then
    echo "a SLURM cluster is already up"; sinfo; exit 0
  fi
  host=$(hostname -s)
  node=$(slurmd -C | head -n 1 | sed -E 's/ (Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore)=[0-9]+//g')
  mem=$(sed -nE 's/.*RealMemory=([0-9]+).*/\1/p' <<<"$node")
  node=$(sed -E "s/RealMemory=[0-9]+/RealMemory=$((mem * 9 / 10))/" <<<"$node")
  mkdir -p /etc/slurm "$state/ctld" "$state/d" /var/log/slurm /run/munge
  cat >"$conf" <<CONF
# written by amcli's scripts/local_slurm.sh
ClusterName=amcli-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
EnforcePartLimits=ALL
KillWait=10
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
$node State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  chown -R munge:munge /run/munge 2>/dev/null || true
  pgrep -x munged >/dev/null || munged --force
  pgrep -x slurmctld >/dev/null || slurmctld
  pgrep -x slurmd >/dev/null || slurmd
  for _ in $(seq 1 30); do
    if sinfo -h -o %T 2>/dev/null | grep -q idle; then sinfo; exit 0; fi
    sleep 1
  done
  echo "SLURM did not come up; see /var/log/slurm/" >&2
  exit 1
  ;;
stop)
  pkill -x slurmd || true
  pkill -x slurmctld || true
  pkill -x munged || true
  ;;
status)
  sinfo
  ;;
*)
  echo "usage: $0 start|stop|status" >&2
  exit 2
  ;;
esac
