#!/bin/sh
# Regenerates proc/<pid>/{cgroup,mountinfo}: one PID per cgroup layout the
# locator and attestor tests cover (../container-locator.test.ts,
# ../attestor.test.ts). Workload PIDs are 10xx; the init process of the
# container a 10xx workload is in is 20xx where the tests need one (the
# engine's State.Pid), so each 10xx/20xx pair is a `docker exec` shape: a
# second process beside the container's init.
set -eu
cd "$(dirname "$0")"
rm -rf proc
A=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
B=fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
P=a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90
POD=pod6a7b8c9d_0e1f_4a2b_8c3d_4e5f6a7b8c9d
put() { mkdir -p "proc/$1"; printf '%s\n' "$3" > "proc/$1/$2"; }
v1() { # $1 = path for every v1 hierarchy
  printf '12:hugetlb:%s\n11:memory:%s\n10:pids:%s\n9:devices:%s\n8:cpu,cpuacct:%s\n7:blkio:%s\n6:net_cls,net_prio:%s\n5:cpuset:%s\n4:freezer:%s\n3:perf_event:%s\n2:rdma:%s\n1:name=systemd:%s\n' "$1" "$1" "$1" "$1" "$1" "$1" "$1" "$1" "$1" "$1" "$1" "$1"
}
CGMOUNT_ROOT='30 22 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot'

# Docker, cgroup v1, cgroupfs driver.
put 1001 cgroup "$(v1 /docker/$A)"
# Docker, cgroup v1, systemd driver.
put 1002 cgroup "$(v1 /system.slice/docker-$A.scope)"
# Docker, cgroup v2, systemd driver, host cgroup namespace.
put 1003 cgroup "0::/system.slice/docker-$A.scope"
# Docker, cgroup v2, cgroupfs driver.
put 1004 cgroup "0::/docker/$A"
# Docker, cgroup v2, private cgroup namespace, read from the agent's sibling namespace.
put 1005 cgroup "0::/../$A"
# cgroup file names nothing (read from inside the namespace): mountinfo fallback, with an empty tmpfs source line.
put 1006 cgroup "0::/"
put 1006 mountinfo "$CGMOUNT_ROOT
119 206 0:68 / /local rw,relatime - tmpfs  rw,size=8192k
1543 1542 0:32 /system.slice/docker-$A.scope /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate"
# The kernel's cgroup file wins over a bind-mounted foreign cgroup in mountinfo.
put 1007 cgroup "0::/system.slice/docker-$A.scope"
put 1007 mountinfo "1543 1542 0:32 /system.slice/docker-$B.scope /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw"
# containerd (Kubernetes CRI), cgroup v2, systemd driver.
put 1008 cgroup "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-$POD.slice/cri-containerd-$A.scope"
# CRI-O, cgroup v1, systemd driver.
put 1009 cgroup "$(v1 /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-$POD.slice/crio-$A.scope)"
# Podman, rootful, cgroup v2.
put 1010 cgroup "0::/machine.slice/libpod-$P.scope/container"
# Podman, rootless (user 1000), cgroup v2.
put 1011 cgroup "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-$P.scope/container"
# Podman, cgroup v1, cgroupfs driver.
put 1012 cgroup "$(v1 /libpod_parent/libpod-$P)"
# A path only the legacy matcher "/my.slice/*/<id>/*" is written for.
put 1013 cgroup "0::/my.slice/tenant/$A/init"
# Host processes: cgroup v2 and hybrid v1; mountinfo shows the whole tree.
put 1020 cgroup "0::/user.slice/user-1000.slice/session-3.scope"
put 1020 mountinfo "$CGMOUNT_ROOT"
put 1021 cgroup "$(v1 /user.slice/user-1000.slice/session-3.scope)
0::/user.slice/user-1000.slice/session-3.scope"
# Malformed cgroup file.
put 1030 cgroup "0::/
not a cgroup line"
# Malformed mountinfo (the cgroup file names nothing, so it is read).
put 1031 cgroup "0::/"
put 1031 mountinfo "1543 1542 0:32 / /sys/fs/cgroup ro"
# Two containers in the cgroup file.
put 1032 cgroup "2:cpu:/docker/$A
1:name=systemd:/docker/$B"
# A container ID, then a hierarchy without one: SPIRE refuses this as a conflict.
put 1033 cgroup "1:name=systemd:/docker/$A
0::/"
# Two containers in mountinfo.
put 1034 cgroup "0::/"
put 1034 mountinfo "1543 1542 0:32 /../$A /sys/fs/cgroup ro - cgroup2 cgroup rw
1544 1542 0:32 /../$B /sys/fs/cgroup ro - cgroup2 cgroup rw"
# Hierarchies without an ID before the first one with it are ignored.
put 1035 cgroup "0::/
1:name=systemd:/docker/$A"

# Container init processes (State.Pid) for the layouts above: 20xx is the init of 10xx's container.
put 2001 cgroup "$(v1 /docker/$A)"
put 2002 cgroup "$(v1 /system.slice/docker-$A.scope)"
put 2003 cgroup "0::/system.slice/docker-$A.scope"
put 2004 cgroup "0::/docker/$A"
put 2005 cgroup "0::/../$A"
# The agent sees 1006 at "0::/": its cgroup namespace is rooted at the container, where the init is too.
put 2006 cgroup "0::/"
put 2007 cgroup "0::/system.slice/docker-$A.scope"
put 2008 cgroup "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-$POD.slice/cri-containerd-$A.scope"
put 2009 cgroup "$(v1 /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-$POD.slice/crio-$A.scope)"
put 2010 cgroup "0::/machine.slice/libpod-$P.scope/container"
put 2011 cgroup "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-$P.scope/container"
put 2012 cgroup "$(v1 /libpod_parent/libpod-$P)"
put 2013 cgroup "0::/my.slice/tenant/$A"

# Spoofs: an unprivileged user's delegated systemd subtree (cgroup v2), a cgroup named like container A.
put 1040 cgroup "0::/user.slice/user-1000.slice/user@1000.service/app.slice/$A"
put 1041 cgroup "0::/user.slice/user-1000.slice/user@1000.service/app.slice/evil-$A.scope"
# The same on every cgroup v1 hierarchy.
put 1042 cgroup "$(v1 /user.slice/user-1000.slice/user@1000.service/app.slice/$A)"
# A host process whose cgroup file names nothing, with A's cgroup bind-mounted in its own mount namespace.
put 1043 cgroup "0::/user.slice/user-1000.slice/session-3.scope"
put 1043 mountinfo "1543 1542 0:32 /system.slice/docker-$A.scope /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw"
# Sub-cgroups inside container A: the init stays in the container's cgroup (cgroupfs, v2) ...
put 1044 cgroup "0::/docker/$A/app"
# ... or the container runs systemd, which moves its init to init.scope and services to system.slice (v2 and v1).
put 1045 cgroup "0::/system.slice/docker-$A.scope/system.slice/nginx.service"
put 2045 cgroup "0::/system.slice/docker-$A.scope/init.scope"
put 1046 cgroup "$(v1 /system.slice/docker-$A.scope/system.slice/nginx.service)"
put 2046 cgroup "$(v1 /system.slice/docker-$A.scope/init.scope)"
