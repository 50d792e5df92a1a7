"""What a user does on the course's hub, in the browser (Playwright on Debian's Chromium).

Each function is one thing a person does on a page: log in, open nbgrader's Assignment List, fetch,
upload, validate, submit, fetch feedback; in the formgrader (its own browser tab, as nbgrader's
documentation says for JupyterHub >= 4.1) generate, release, collect, autograde and hand feedback
back.  ``Steps`` names the steps of tests/test_hub.py and saves a screenshot after each one.
"""
import contextlib
import re
import time
from pathlib import Path

from support.chromium import wait_until  # noqa: F401  (tests/test_hub.py uses it as pages.wait_until)
from support.jupyterlab import CHROMIUM, CHROMIUM_ARGS  # noqa: F401  (the suite's Chromium set-up)

LONG_MS = 600_000     # autograding a submission, validating a notebook (a shared, loaded machine)


class Steps:
    """Named steps, each ending in a screenshot of the page it acted on; a failure adds one more."""

    def __init__(self, folder):
        self.folder, self.count = Path(folder), 0
        self.folder.mkdir(parents=True, exist_ok=True)
        self.times = []
        print(f"\nhub screenshots: {self.folder}")

    def shot(self, page, name):
        self.count += 1
        path = self.folder / f"{self.count:02d}_{name}.png"
        try:
            page.screenshot(path=str(path))
        except Exception as exc:  # a screenshot must not hide the real failure
            print(f"screenshot {path.name} failed: {exc}")
        return path

    @contextlib.contextmanager
    def __call__(self, page, name):
        start = time.time()
        try:
            yield
        except Exception as exc:
            self.shot(page, f"{name}_FAILED")
            raise AssertionError(f"step '{name}' failed (screenshots in {self.folder}): {exc}") from exc
        self.shot(page, name)
        self.times.append((name, time.time() - start))
        print(f"  {name}: {time.time() - start:.0f} s", flush=True)


# ------------------------------------------------------------------------------------ the hub

def log_in(browser, hub_url, login, password):
    """A new browser session that logs ``login`` in on the hub's login page; returns the page,
    once the user's JupyterLab has loaded (the hub starts their server on the way)."""
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    context.set_default_timeout(240_000)
    page = context.new_page()
    page.goto(f"{hub_url}/hub/login")
    page.fill("#username_input", login)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf".*/user/{re.escape(login)}/lab.*"))
    page.locator(".lm-MenuBar-item", has_text=re.compile("^Nbgrader$")).wait_for()
    return page


def nbgrader_menu(page):
    """The labels of the items of JupyterLab's Nbgrader menu (opened, read, closed)."""
    page.locator(".lm-MenuBar-item", has_text=re.compile("^Nbgrader$")).click()
    items = page.locator("#jp-mainmenu-nbgrader .lm-Menu-item")
    items.first.wait_for()
    labels = [t.strip() for t in items.locator(".lm-Menu-itemLabel").all_inner_texts() if t.strip()]
    page.keyboard.press("Escape")
    if page.locator("#jp-mainmenu-nbgrader").is_visible():
        page.locator(".lm-MenuBar-item", has_text=re.compile("^Nbgrader$")).click()   # closes it
    return labels


# ------------------------------------------------------------------------ the student's side

def menu_command(page, menu, command):
    """Open a menu of JupyterLab's menu bar and run the item of ``command`` (a second click on an
    already open menu would close it, so the item's visibility decides)."""
    item = page.locator(f'.lm-Menu-item[data-command="{command}"]')
    for _ in range(3):
        page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{menu}$")).click()
        try:
            item.wait_for(state="visible", timeout=5_000)
            break
        except Exception:
            continue
    item.click()


def open_assignment_list(page):
    menu_command(page, "Nbgrader", "nbgrader:open-assignment-list")
    page.locator("#assignments").wait_for()


def _list_item(page, list_id, assignment):
    return page.locator(f"#{list_id} .list_item", has=page.locator(".item_name", has_text=assignment))


def fetch(page, assignment):
    """Assignment List: Fetch; waits until the assignment is among the downloaded ones."""
    _list_item(page, "released_assignments_list", assignment).locator("button", has_text="Fetch").click()
    _list_item(page, "fetched_assignments_list", assignment).first.wait_for()


def upload(page, folder_url, files):
    """Open ``folder_url`` (a lab/tree URL) and upload ``files`` through the file browser, replacing
    the files of the same name (JupyterLab asks for each)."""
    page.goto(folder_url)
    page.locator(".jp-DirListing-item").first.wait_for()
    with page.expect_file_chooser() as chooser:
        page.locator(".jp-FileBrowser-toolbar .jp-id-upload jp-button, "
                     ".jp-FileBrowser-toolbar .jp-id-upload button").first.click()
    chooser.value.set_files([str(f) for f in files])
    dialogs = page.locator(".jp-Dialog")
    for _ in files:     # one "Overwrite file?" dialog per file, each appearing as the last closes
        overwrite = page.locator(".jp-Dialog button", has_text="Overwrite").first
        overwrite.wait_for()
        asked = dialogs.first.get_attribute("aria-label")
        overwrite.click()
        wait_until(lambda: dialogs.count() == 0 or dialogs.first.get_attribute("aria-label") != asked,
                   60_000, f"the answer to {asked!r}", interval=0.2)
    dialogs.first.wait_for(state="detached")


def validate_notebook(page, notebook_url):
    """Open a notebook and press its Validate button: (passed, the dialog's text)."""
    page.goto(notebook_url)
    button = page.locator(".jp-NotebookPanel-toolbar .validate-button")
    button.wait_for()
    button.click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator(".validation-success, .validation-failed").first.wait_for(timeout=LONG_MS)
    passed = dialog.locator(".validation-success").count() > 0
    text = dialog.inner_text()
    return passed, text


def close_dialog(page):
    page.locator(".jp-Dialog .jp-Dialog-button").last.click()
    page.locator(".jp-Dialog").wait_for(state="detached")


def submit(page, assignment):
    """Assignment List: Submit; waits until the submission is listed with its time stamp."""
    _list_item(page, "fetched_assignments_list", assignment).locator("button", has_text="Submit").first.click()
    _list_item(page, "submitted_assignments_list", assignment).first.wait_for(timeout=LONG_MS)


def run_in_console(page, code):
    """A Python console (a new Launcher's Console card) on the user's own server: run ``code``, return
    the output's text (``code`` prints PROBE-END last)."""
    page.locator(".jp-DirListing-item").first.wait_for()
    page.keyboard.press("Control+Shift+L")      # a new Launcher, then its Console card
    page.locator('.jp-Launcher-section:has-text("Console") .jp-LauncherCard >> visible=true').first.click()
    accept = page.locator(".jp-Dialog .jp-mod-accept")
    with contextlib.suppress(Exception):
        accept.click(timeout=15_000)   # the kernel chooser, when JupyterLab asks
    prompt = page.locator(".jp-CodeConsole-promptCell .cm-content")
    prompt.wait_for()
    prompt.click()
    prompt.evaluate("""(el, text) => {
        const data = new DataTransfer();
        data.setData('text/plain', text);
        el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
    }""", code)
    page.keyboard.press("Shift+Enter")
    out = page.locator(".jp-CodeConsole-content .jp-OutputArea-output")
    wait_until(lambda: "PROBE-END" in " ".join(out.all_inner_texts()), LONG_MS, "the console's output")
    return "\n".join(out.all_inner_texts())


def fetch_feedback(page, assignment):
    """Assignment List: Fetch Feedback on the submitted assignment, then "(view feedback)", which
    shows the fetched feedback folder in the file browser."""
    item = _list_item(page, "submitted_assignments_list", assignment).first
    item.locator("button", has_text="Fetch Feedback").click()
    link = page.locator("#submitted_assignments_list a", has_text="view feedback").first
    link.wait_for(timeout=LONG_MS)
    link.click()
    page.locator(".jp-DirListing-item", has_text=".html").first.wait_for()


def open_in_new_tab(page, url):
    """What JupyterLab's "Open in New Browser Tab" does: the file from the user's server, in a new tab."""
    tab = page.context.new_page()
    tab.goto(url)
    tab.wait_for_load_state()
    return tab


# ---------------------------------------------------------------------------- the formgrader

def open_formgrader(page, hub_url, login):
    """The formgrader in its own tab: JupyterHub >= 4.1 forbids it inside JupyterLab's frame."""
    page.goto(f"{hub_url}/user/{login}/formgrader")
    page.locator("h1", has_text="Manage Assignments").wait_for()


def formgrader_action(page, row, column, what):
    """Click the action of ``column`` (a td class) in ``row``; wait for nbgrader's result dialog.
    Returns the dialog's text; raises if nbgrader reported an error."""
    row.locator(f"td.{column} a").first.click()
    modal = page.locator("#success-modal, #error-modal").first
    modal.wait_for(timeout=LONG_MS)
    text = modal.inner_text()
    failed = modal.get_attribute("id") == "error-modal"
    modal.locator("button.close").first.click()
    modal.wait_for(state="hidden")
    if failed:
        raise AssertionError(f"formgrader: {what} failed:\n{text[-3000:]}")
    return text


def assignment_row(page, assignment):
    return page.locator("tr", has=page.locator("td.name", has_text=re.compile(f"^{assignment}$")))
