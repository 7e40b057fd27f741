#!/usr/bin/env bash
# Re-extract translatable strings into bot/locale/messages.pot and merge them into the
# de and en catalogs (bot/locale/<lang>/LC_MESSAGES/messages.po). Run it after adding or
# changing a message, then translate the new empty entries in the de catalog.
# Keywords and file patterns must stay in sync with babel.cfg and tests/core/test_i18n.py.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -x .venv/bin/pybabel ]]; then
    pybabel=(.venv/bin/pybabel)
elif command -v pybabel >/dev/null 2>&1; then
    pybabel=(pybabel)
else
    pybabel=(python3 -m babel.messages.frontend)
fi

locale_dir=bot/locale
template="$locale_dir/messages.pot"
languages=(de en)

"${pybabel[@]}" extract \
    --mapping-file babel.cfg \
    --no-default-keywords \
    --keywords _ --keywords gettext --keywords N_ --keywords ngettext:1,2 \
    --no-location --sort-output \
    --project ag-assistant --version 0.1 \
    --output-file "$template" \
    .

for lang in "${languages[@]}"; do
    po="$locale_dir/$lang/LC_MESSAGES/messages.po"
    if [[ ! -f "$po" ]]; then
        "${pybabel[@]}" init --input-file "$template" --output-dir "$locale_dir" \
            --locale "$lang" --domain messages
    fi
    "${pybabel[@]}" update --input-file "$template" --output-dir "$locale_dir" \
        --locale "$lang" --domain messages --no-fuzzy-matching --ignore-obsolete
done
