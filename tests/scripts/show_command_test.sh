#!/usr/bin/env bash
# Tests scripts/show_command.sh: the command scripts/demo.sh echoes is printed as a user would
# type it (no `\,` in a mount option list), and what needs quoting still pastes back intact.
set -euo pipefail
source "$(dirname "$0")/../../scripts/show_command.sh"

failures=0
expect() {
  local want="$1"; shift
  local got; got=$(show_command "$@")
  if [[ "$got" != "$want" ]]; then
    echo "FAIL: show_command $*: got [$got], want [$want]"; failures=$((failures + 1))
  fi
}

expect '$ ./build/s3mount demo-bucket /tmp/mnt -o endpoint=http://127.0.0.1:5000,stat_ttl=3600' \
  ./build/s3mount demo-bucket /tmp/mnt -o endpoint=http://127.0.0.1:5000,stat_ttl=3600
expect "\$ ls 'notes/note 1.txt' ''" ls "notes/note 1.txt" ""
expect "\$ echo 'it'\\''s'" echo "it's"
# What is printed, run by the shell, gives back the same words.
words=(cp -a "a b" "it's" 'x$y' ",")
printed=$(show_command "${words[@]}")
eval "set -- ${printed#\$}"
if [[ "$*" != "${words[*]}" || $# -ne ${#words[@]} ]]; then
  echo "FAIL: round trip gave [$*] ($# words)"; failures=$((failures + 1))
fi
if ((failures)); then exit 1; fi
echo "show_command: all passed"
