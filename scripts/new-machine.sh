#!/usr/bin/env bash
# Runs a command (default: npm test) the way it runs on a machine that never saw this project, so that a
# step once done here by hand (a /run/sshd, a cached code-server, a known_hosts line) cannot hide a missing
# install step. In a private mount namespace:
#   - the project is a fresh `git clone` of HEAD (untracked files, node_modules, out/ and .lab/ stay behind),
#   - /run holds only what the machine image shipped (entries changed since boot are hidden),
#   - /tmp is empty, HOME is a new empty folder (no ~/.cache, ~/.npm, ~/.ssh, ~/.config), CI=true.
# Debian packages already installed and files outside /run, /tmp and HOME stay visible: the project's own
# scripts check for each package they need. Needs root (mount namespaces). Leaves nothing behind; exits with
# the command's status. .ci/run runs `npm test` through it; by hand: bash scripts/new-machine.sh [command…]
set -euo pipefail
top=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
if [ "$(id -u)" -ne 0 ]; then
  echo "[new-machine] needs root for a private mount namespace. Fix: sudo bash scripts/new-machine.sh $*" >&2
  exit 2
fi
work=$(mktemp -d /var/tmp/xenpools-new-machine.XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
git clone -q "$top" "$work/project"
mkdir -p "$work/home" "$work/run-image"
[ $# -gt 0 ] || set -- npm test
echo "[new-machine] $* in a fresh clone of $(git -C "$top" rev-parse --short HEAD), with /run as the image shipped it, an empty /tmp and an empty HOME" >&2
cat > "$work/inside.sh" <<'INSIDE'
set -eu
work=$1; shift
booted=$(( $(date +%s) - $(cut -d. -f1 /proc/uptime) ))
# Keep a view of the real /run, lay an empty tmpfs over it, bring back what existed before this boot.
mount --bind /run "$work/run-image"
mount -t tmpfs -o mode=755 tmpfs /run
for entry in "$work"/run-image/* "$work"/run-image/.[!.]*; do
  [ -e "$entry" ] || continue
  name=$(basename "$entry")
  [ "$(stat -c %Z "$entry")" -lt "$booted" ] || continue
  if [ -d "$entry" ] && [ ! -L "$entry" ]; then mkdir -p "/run/$name" && mount --bind "$entry" "/run/$name"
  else cp -a "$entry" "/run/$name"; fi
done
mount -t tmpfs -o mode=1777 tmpfs /tmp
cd "$work/project"
export HOME="$work/home" CI=true
unset XDG_CACHE_HOME XDG_CONFIG_HOME XDG_DATA_HOME npm_config_cache SSH_AUTH_SOCK
exec "$@"
INSIDE
set +e
unshare --mount --propagation private --fork bash "$work/inside.sh" "$work" "$@" </dev/null
status=$?
set -e
echo "[new-machine] $* exited with $status" >&2
exit $status
