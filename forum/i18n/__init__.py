"""Languages of the interface: catalogs, choosing a reader's language, local dates.

Interface text is English msgids marked for Babel (`_()`/`{% trans %}` in templates,
`N_()` where errors are raised, `_()`/`ngettext()` in JavaScript) and translated where
it is shown. See docs/i18n.md.
"""
