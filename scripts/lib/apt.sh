# Sourced by scripts/*.sh: install Debian packages without starting their system services.
#
# Installing nginx, redis-server or postgresql would start the system's own instance (port 80,
# 6379, 5432); the cockpit runs private instances instead. A policy-rc.d that refuses every
# start (exit 101) is put in place for the install only, unless the system already has one.

# apt_install_quietly PKG...: as root, install without recommends and without starting services
# (run apt-get update before)
apt_install_quietly() {
  [ $# -gt 0 ] || return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "需要以 root 安装：$*（或先手动 apt-get install -y --no-install-recommends $*）" >&2
    return 1
  fi
  local policy=/usr/sbin/policy-rc.d placed=0 status=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 0755 "$policy"
    placed=1
  fi
  if [[ " $* " == *" postgresql "* ]]; then
    # the package would create and start a system cluster on port 5432: ours are private
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/cockpit-tests.conf
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null || status=$?
  if [ "$placed" -eq 1 ]; then
    rm -f "$policy"
  fi
  return "$status"
}

# apt_has PKG: whether Debian's package lists know PKG (after apt-get update)
apt_has() {
  apt-cache show "$1" >/dev/null 2>&1
}
