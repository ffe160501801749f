package dev.anvil.api.ui;

/** What every page's frame (templates/layout.html) shows: the title, and who is signed in (null: nobody). */
record Frame(String title, String who) {
}
