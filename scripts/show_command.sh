# show_command: prints a command as a user would type it at a shell prompt, for scripts that
# echo what they run (scripts/demo.sh). Words made only of characters the shell leaves alone
# (letters, digits and _ @ % + = : , . / -) are printed as they are; any other word is put in
# single quotes. bash's `printf %q` would print `a,b` as `a\,b`, which no one types.
# Sourced, not run.

show_command() {
  local word out=""
  for word in "$@"; do
    if [[ -n "$word" && "$word" =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then
      out+=" $word"
    else
      out+=" '${word//\'/\'\\\'\'}'"
    fi
  done
  printf '$%s\n' "$out"
}
