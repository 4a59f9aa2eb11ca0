#!/usr/bin/env bash
# A single-node Slurm on this machine, for the tests that run `snakemake --profile slurm`.
#
# Run as root on Debian (CI does; see .ci/run). It installs slurm-wlm and munge with apt-get, writes
# a slurm.conf for this one host (its real CPUs and memory, as `slurmd -C` reports them), starts
# munged, slurmctld and slurmd without systemd, and waits until `sinfo` shows the node idle.
# Safe to run twice: a running, healthy Slurm is left alone.
#
# Choices, and why:
#   proctrack/linuxproc, task/none   no cgroups needed, so it also runs in a container
#   no accounting database           nothing else to install; sacct then knows no jobs, which is
#                                    why the profile asks the plugin for squeue status checks
#   MinJobAge=3600                   finished jobs stay visible to squeue (and scontrol) for an
#                                    hour, far longer than the plugin's status-check interval
set -euo pipefail

PARTITION=debug
CONF=/etc/slurm/slurm.conf
LOGDIR=/var/log/slurm

node_is_up() {
    sinfo -h -p "$PARTITION" -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'
}

if [ "$(id -u)" -ne 0 ]; then
    echo "start-local-slurm.sh: run as root (it installs packages and starts daemons)" >&2
    exit 1
fi

if command -v sinfo >/dev/null && node_is_up; then
    echo "Slurm is already running:"; sinfo
    exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

# munge: one key shared by slurmctld, slurmd and the client commands (all on this host).
if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged --force
    for _ in $(seq 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.5; done
fi

# slurm.conf for this host only. The node line is slurmd's own measurement of the machine.
node_line=$(slurmd -C | head -1)
host=$(hostname -s)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd "$LOGDIR"
chown slurm:slurm /var/spool/slurmctld "$LOGDIR"
cat > "$CONF.new" <<CONF
# Written by tests/slurm/start-local-slurm.sh: a single-node Slurm for the workflow tests.
ClusterName=digitstudy
SlurmctldHost=$host
SlurmUser=slurm
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=3600
KillWait=10
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
$node_line State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
mv "$CONF.new" "$CONF"

# (Re)start the daemons: a half-started Slurm from an earlier try is stopped first.
for daemon in slurmd slurmctld; do
    if [ -s "/run/$daemon.pid" ] && kill -0 "$(cat "/run/$daemon.pid")" 2>/dev/null; then
        kill "$(cat "/run/$daemon.pid")"
        for _ in $(seq 20); do kill -0 "$(cat "/run/$daemon.pid")" 2>/dev/null || break; sleep 0.5; done
    fi
done
/usr/sbin/slurmctld
/usr/sbin/slurmd

for _ in $(seq 60); do
    if node_is_up; then
        echo "Slurm is running:"; sinfo
        exit 0
    fi
    scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
    sleep 1
done
echo "start-local-slurm.sh: the node did not become idle; last lines of the logs:" >&2
tail -n 20 "$LOGDIR/slurmctld.log" "$LOGDIR/slurmd.log" >&2 || true
sinfo >&2 || true
exit 1
