#!/usr/bin/env python3
"""The HTML report in a real browser (CTest `report_browser`).

usage: test_report_browser.py LATENTSCALE_CLI SCREENSHOT_DIR WORK_DIR

Simulates a small leaderboard with the command line, fits it (K = 2), runs
`select` (K = 1..2, two family folds) and writes the report with every
figure.  Then opens it in headless Chromium (Debian's chromium,
chromium-driver and python3-selenium) and checks that each figure's <svg>
exists, has a non-empty bounding box and contains drawn elements (paths,
circles, rects) with non-empty boxes, that the page loaded no resources and
logged no console errors.  Screenshots of the full page and of each figure
go to SCREENSHOT_DIR.  Without Chromium or Selenium the test FAILS, saying
what to install: CI installs them (scripts/install-deps.sh).
"""
import csv
import os
import shutil
import subprocess
import sys
import time

FIGURES = ["scores", "loadings", "correlations", "selection", "frontier", "compare"]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(cli, *args, cwd):
    t0 = time.time()
    p = subprocess.run([cli, *args], cwd=cwd, capture_output=True, text=True)
    print("  $ latentscale %s  (%.1f s)" % (" ".join(args), time.time() - t0))
    if p.returncode != 0:
        print(p.stdout + p.stderr)
        sys.exit("latentscale %s failed with exit code %d" % (args[0], p.returncode))
    return p


def find_chromium():
    """The browser and its driver, or exit with the packages to install."""
    try:
        from selenium import webdriver  # noqa: F401
    except ImportError:
        sys.exit("FAIL: python3-selenium is not installed (apt-get install chromium chromium-driver "
                 "python3-selenium, or bash scripts/install-deps.sh); run this test with Debian's /usr/bin/python3")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
    if not browser or not driver:
        sys.exit("FAIL: chromium and chromium-driver are needed for the browser test "
                 "(apt-get install chromium chromium-driver python3-selenium, or bash scripts/install-deps.sh)")
    return browser, driver


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    cli, shots, work = (os.path.abspath(a) for a in sys.argv[1:])
    browser, driver_path = find_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    t_start = time.time()
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.makedirs(shots, exist_ok=True)
    for f in os.listdir(shots):
        if f.endswith(".png"):
            os.remove(os.path.join(shots, f))

    run(cli, "simulate", "--out", "sim.csv", "--n-families", "30", "--skills", "2", "--seed", "5",
        "--floors-out", "floors.csv", cwd=work)
    run(cli, "fit", "sim.csv", "--floors", "floors.csv", "--skills", "2", "--starts", "1", "--threads", "2",
        "--quiet", "--out", "fit.json", cwd=work)
    run(cli, "select", "sim.csv", "--floors", "floors.csv", "--skills", "1..2", "--folds", "2", "--starts", "1",
        "--threads", "2", "--out", "select.json", cwd=work)
    with open(os.path.join(work, "sim.csv"), newline="") as fh:
        fams = [row["family"] for row in csv.DictReader(fh)]
    big = sorted(set(fams), key=lambda f: (-fams.count(f), f))[:2]
    run(cli, "report", "fit.json", "sim.csv", "--select", "select.json", "--compare", ",".join(big),
        "--param-draws", "40", "--latent-draws", "10", "--threads", "2", "--out", "report.html", cwd=work)
    page = os.path.join(work, "report.html")
    html = open(page, encoding="utf-8").read()
    check("<script" not in html and "<link" not in html, "no scripts or linked files in the page")
    check(html.replace('xmlns="http://www.w3.org/2000/svg"', "").count("http") == 0, "no network addresses in the page")

    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,1000", "--hide-scrollbars", "--force-device-scale-factor=1"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        drv.get("file://" + page)
        check(drv.title == "latentscale report", "the page loads with its title")
        for fig in FIGURES:
            secs = drv.find_elements(By.CSS_SELECTOR, "#fig-%s" % fig)
            svgs = drv.find_elements(By.CSS_SELECTOR, "#fig-%s svg" % fig)
            check(len(secs) == 1 and len(svgs) == 1, "figure %s: one <svg>" % fig)
            if not svgs:
                continue
            box = drv.execute_script("var r = arguments[0].getBoundingClientRect(); return [r.width, r.height];", svgs[0])
            check(box[0] > 100 and box[1] > 100, "figure %s: bounding box %.0f x %.0f px" % (fig, box[0], box[1]))
            counts = drv.execute_script(
                "var n = {path: 0, circle: 0, rect: 0, line: 0, text: 0};"
                "arguments[0].querySelectorAll('path, circle, rect, line, text').forEach(function (e) {"
                "  var r = e.getBoundingClientRect(); if (r.width > 0 && r.height > 0) n[e.tagName]++; });"
                "return n;", svgs[0])
            drawn = counts["path"] + counts["circle"] + counts["rect"] + counts["line"]
            check(drawn >= 5 and counts["text"] >= 3,
                  "figure %s: drawn elements with non-empty boxes: %d paths, %d circles, %d rects, %d lines, %d texts"
                  % (fig, counts["path"], counts["circle"], counts["rect"], counts["line"], counts["text"]))
            drv.execute_script("arguments[0].scrollIntoView();", svgs[0])
            svgs[0].screenshot(os.path.join(shots, "figure-%s.png" % fig))
        scores = drv.find_elements(By.CSS_SELECTOR, "#svg-scores circle")
        curves = drv.find_elements(By.CSS_SELECTOR, "#svg-scores g.panel path")
        check(len(scores) > 100 and len(curves) >= 12, "figure scores: %d points, %d curve and band paths" % (len(scores), len(curves)))
        cells = drv.find_elements(By.CSS_SELECTOR, "#svg-loadings rect")
        check(len(cells) >= 2 * 12, "figure loadings: %d cells" % len(cells))
        check(len(drv.find_elements(By.CSS_SELECTOR, "#fit-table table")) >= 4, "the fit table")
        # issue 28: the warnings banner (or its "none") on the first screen; the figures'
        # marks drawn: per-family markers, extrapolation, fixed entries, the search limits
        top = drv.execute_script("var e = document.getElementById('warnings');"
                                 "if (!e) return -1; var r = e.getBoundingClientRect();"
                                 "window.scrollTo(0, 0); return r.height > 0 ? e.getBoundingClientRect().top : -1;")
        check(0 <= top < 400, "warnings banner at the top of the page (at %.0f px)" % top)
        def visible(css):
            return drv.execute_script(
                "var n = 0; document.querySelectorAll(arguments[0]).forEach(function (e) {"
                "  var r = e.getBoundingClientRect(); if (r.width > 0 || r.height > 0) n++; }); return n;", css)
        shapes = {drv.execute_script("return arguments[0].getAttribute('data-shape');", e)
                  for e in drv.find_elements(By.CSS_SELECTOR, "#svg-scores path.marker")}
        check(len(shapes) >= 2 and visible("#svg-scores path.marker") > 20,
              "figure scores: markers of %d shapes drawn" % len(shapes))
        check(visible("#svg-scores g.extrapolation path") >= 12 and visible("#svg-scores g.range-mark line") >= 12,
              "figure scores: extrapolations and range marks drawn")
        check(visible("#svg-loadings g.fixed-entry rect") == 2, "figure loadings: the 2 fixed entries drawn")
        check(visible("#svg-frontier g.range-limit line") == 4, "figure frontier: the 4 search limits drawn")
        raised = drv.execute_script(
            "var t = document.querySelector('#svg-frontier text tspan'); if (!t) return false;"
            "return t.getBoundingClientRect().top < t.parentNode.getBoundingClientRect().top + 2 &&"
            "  t.getBoundingClientRect().height < t.parentNode.getBoundingClientRect().height + 0.5;", )
        check(bool(raised), "figure frontier: exponents raised and smaller")
        res = drv.execute_script("return performance.getEntriesByType('resource').length;")
        check(res == 0, "no resources fetched (%d)" % res)
        errors = [e for e in drv.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]
        for e in errors:
            print("  console: %s" % e.get("message"))
        check(not errors, "no console errors")
        height = drv.execute_script("return document.documentElement.scrollHeight;")
        drv.set_window_size(1280, height + 40)
        drv.save_screenshot(os.path.join(shots, "report-full.png"))
        check(os.path.getsize(os.path.join(shots, "report-full.png")) > 10000, "full-page screenshot saved")
    finally:
        drv.quit()
    print("screenshots in %s; report in %s; %.1f s" % (shots, page, time.time() - t_start))
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
