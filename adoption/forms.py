"""The shape of the input on the import page. Rules stay in adoption.services and adoption.uploads."""

from django import forms

from access_requests.forms import PortalForm

from .services import FILES

# The browser's own file input, not the design system's drop zone: that one names every input
# "Drag file here or choose from folder", and four inputs on one page need their own names.
CSV_INPUT = {"accept": ".csv,text/csv", "class": "display-block margin-top-1"}


class UploadForm(PortalForm):
    """The four files of README's "Bringing a city in", one input each."""

    departments = forms.FileField(label="Departments (departments.csv)",
                                  widget=forms.FileInput(attrs=CSV_INPUT))
    people = forms.FileField(label="People (people.csv)", widget=forms.FileInput(attrs=CSV_INPUT))
    systems = forms.FileField(label="Surveillance systems (systems.csv)",
                              widget=forms.FileInput(attrs=CSV_INPUT))
    accounts = forms.FileField(label="Accounts on the systems (accounts.csv)",
                               widget=forms.FileInput(attrs=CSV_INPUT))

    def contents(self) -> dict[str, bytes]:
        """The files by the names the import knows them by."""
        return {name: self.cleaned_data[name.removesuffix(".csv")].read() for name in FILES}
