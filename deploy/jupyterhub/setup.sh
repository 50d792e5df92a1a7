#!/usr/bin/env bash
# Install the course's JupyterHub on a Debian machine (as root, from a clone of the course kit).
#
#   deploy/jupyterhub/setup.sh [--prefix DIR] [--course DIR] [--python PYTHON]
#
#   --prefix         where the hub lives (default /opt/hw4-hub): venv/, proxy/, etc/student/, state/
#   --course         the course folder whose nbgrader_config.py gives the exchange root and the
#                    course id the students' servers need (default: this kit)
#   --python         a Python 3.11 every user may run (default /usr/bin/python3.11, Debian's)
#
# Why a separate environment: every user's server runs from it, so it must be readable by all; the
# kit holds the solutions (source/), so the environment gets the pinned packages and the course's
# tooling (the `course` package) only, never the kit itself.  Run it again after pulling a new
# version of the kit: it reinstalls what changed and leaves the rest.
set -euo pipefail
umask 022

kit=$(cd "$(dirname "$0")/../.." && pwd)
prefix=/opt/hw4-hub
course=$kit
python=/usr/bin/python3.11
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --course) course=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    *) sed -n '2,14p' "$0" >&2; exit 2 ;;
  esac
done
say() { echo "setup: $*" >&2; }
[ "$(id -u)" -eq 0 ] || { say "run me as root: I create groups, the exchange and the hub's folders"; exit 2; }
[ -f "$course/nbgrader_config.py" ] || { say "no nbgrader_config.py in $course"; exit 2; }
course=$(cd "$course" && pwd)

# 1. Debian packages: Python 3.11 with venv, Node.js and npm (for the proxy), bubblewrap (the
#    sandbox of the student's kernel when the instructor autogrades).  npm comes with some Node.js
#    builds (NodeSource's), so an npm already on PATH counts.
missing=()
for pkg in python3.11 python3.11-venv nodejs npm bubblewrap; do
  if [ "$pkg" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$prefix" "$prefix/etc" && chmod 0755 "$prefix" "$prefix/etc"
mkdir -p "$prefix/state" && chmod 0700 "$prefix/state"   # the hub's database and cookie secret

# 2. The course's environment: the kit's pinned packages (JupyterHub, JupyterLab, nbgrader, ...)
#    and the `course` package (the grading protections nbgrader_config.py loads).
venv=$prefix/venv
[ -x "$venv/bin/python" ] || { say "creating $venv"; "$python" -m venv "$venv"; }
want=$( (cat "$kit/requirements.txt"; "$python" -V) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$venv/requirements.sha256" 2>/dev/null)" != "$want" ]; then
  say "installing the pinned packages into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$kit/requirements.txt"
  echo "$want" > "$venv/requirements.sha256"
fi
# A copy of the `course` package, not an editable install: the kit need not stay, nor be readable by
# students.
want=$( (cd "$kit" && cat pyproject.toml && find course -name '*.py' -type f | LC_ALL=C sort | xargs cat) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$venv/course.sha256" 2>/dev/null)" != "$want" ]; then
  say "installing the course package into $venv"
  build=$(mktemp -d)   # the package's files only: setuptools would otherwise walk the whole kit
  cp -r "$kit/pyproject.toml" "$kit/course" "$build/"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall "$build"
  rm -rf "$build"
  echo "$want" > "$venv/course.sha256"
fi
# The course's own Jupyter server extensions (jupyter-config/), enabled as ./run enables them in .venv.
if [ -d "$kit/jupyter-config/jupyter_server_config.d" ]; then
  mkdir -p "$venv/etc/jupyter/jupyter_server_config.d"
  cp "$kit"/jupyter-config/jupyter_server_config.d/*.json "$venv/etc/jupyter/jupyter_server_config.d/"
fi
# JupyterLab's system-wide defaults: no pop-ups asking users about Jupyter news or updates.
mkdir -p "$venv/share/jupyter/lab/settings"
cp "$kit/deploy/jupyterhub/overrides.json" "$venv/share/jupyter/lab/settings/overrides.json"

# 3. The proxy: configurable-http-proxy from npm, the versions of package-lock.json.
if ! cmp -s "$kit/deploy/jupyterhub/package-lock.json" "$prefix/proxy/package-lock.json" \
   || [ ! -x "$prefix/proxy/node_modules/.bin/configurable-http-proxy" ]; then
  say "installing configurable-http-proxy into $prefix/proxy"
  mkdir -p "$prefix/proxy"
  cp "$kit/deploy/jupyterhub/package.json" "$kit/deploy/jupyterhub/package-lock.json" "$prefix/proxy/"
  (cd "$prefix/proxy" && npm ci --omit=dev --no-audit --no-fund --loglevel=error >/dev/null)
fi

# 4. The hub's config, and the Unix groups it admits (students, instructors).
cp "$kit/deploy/jupyterhub/jupyterhub_config.py" "$prefix/jupyterhub_config.py"
groups=$("$venv/bin/python" -I - "$prefix/jupyterhub_config.py" <<'EOF'
import sys
from pathlib import Path
from traitlets.config.loader import PyFileConfigLoader
path = Path(sys.argv[1])
print(" ".join(sorted(PyFileConfigLoader(path.name, str(path.parent)).load_config().PAMAuthenticator.allowed_groups)))
EOF
)
for group in $groups; do
  getent group "$group" >/dev/null || { say "creating the group $group"; groupadd "$group"; }
done

# 5. The students' Jupyter config (the hub points their servers at it): the course's exchange
#    settings, and nbgrader's extensions as its documentation sets them up for students.
student=$prefix/etc/student
mkdir -p "$student"
"$venv/bin/python" -I -m course.exchange --root "$course" student-config > "$student/nbgrader_config.py"
exchange_root=$("$venv/bin/python" -I -c 'import sys; from course import settings; print(settings.load(sys.argv[1]).exchange_root)' "$course")
(
  export JUPYTER_CONFIG_DIR=$student
  cd "$student"
  # `jupyter server extension disable nbgrader.server_extensions.formgrader` (nbgrader's docs) refuses
  # to write: nbgrader 0.9's per-extension modules do not pass jupyter_server's validation.  So the
  # file it would write is written here: the formgrader's server side off for students.
  mkdir -p jupyter_server_config.d
  printf '%s\n' '{"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": false}}}' \
    > jupyter_server_config.d/nbgrader.json
  # The formgrader and create-assignment JupyterLab plugins off, and locked (JupyterLab >= 4.1 would
  # otherwise let a user re-enable them in its plugin manager).
  # (Each command takes a while: done once, then found in labconfig/page_config.json.)
  for plugin in @jupyter/nbgrader:formgrader @jupyter/nbgrader:create-assignment; do
    if ! grep -qs "\"$plugin\"" labconfig/page_config.json; then
      "$venv/bin/jupyter" labextension disable --level=user "$plugin" >/dev/null 2>&1
      "$venv/bin/jupyter" labextension lock --level=user "$plugin" >/dev/null 2>&1
    fi
  done
)
chmod -R a+rX "$student"

# 6. The exchange: everyone may write (nbgrader then sets each course folder's own modes).
mkdir -p "$exchange_root" && chmod 0777 "$exchange_root"

say "done.  Start the hub (as root):  cd $prefix/state && $venv/bin/jupyterhub -f $prefix/jupyterhub_config.py"
