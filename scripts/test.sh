#!/usr/bin/env bash
# Install what the test suite needs (Python packages; Debian's Chromium, ChromeDriver and
# CJK fonts) and run the whole suite, browser tests included. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
fc-list 2>/dev/null | grep -q "Noto Sans CJK" || need_apt+=(fonts-noto-cjk)
# briefing export and its checks: Serif CJK (title/body), poppler (pdftoppm/pdffonts/pdftotext),
# LibreOffice Impress (soffice --convert-to pdf of the PPTX), pango for WeasyPrint; without
# recommends (LibreOffice's would pull in hundreds of MB the checks do not need)
need_lean=()
fc-list 2>/dev/null | grep -q "Noto Serif CJK" || need_lean+=(fonts-noto-cjk-extra)
command -v pdftoppm >/dev/null 2>&1 || need_lean+=(poppler-utils)
command -v soffice >/dev/null 2>&1 || need_lean+=(libreoffice-impress)
ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || need_lean+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ $((${#need_apt[@]} + ${#need_lean[@]})) -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "需要以 root 安装：${need_apt[*]} ${need_lean[*]}（或先手动 apt-get install）" >&2
    exit 1
  fi
  apt-get update -qq
  if [ ${#need_apt[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  fi
  if [ ${#need_lean[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_lean[@]}" >/dev/null
  fi
fi

python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
python3 -m ruff check .
exec python3 -m pytest "$@"
