"""The volunteer's profile: the questions of /join in order and the catalogues its answers come
from (codes are stored, labels shown in the reader's language). The dialog is in
bot.services.registration, its questions and the profile's lines in bot.views.registration."""

from __future__ import annotations

from bot.i18n import N_

STEPS = ("name", "phone", "community", "skills", "occupation", "hobbies", "kind", "organisation", "availability",
         "registry", "team")
EDITABLE = STEPS[:-1]  # the team is not part of the profile
MULTI_SELECT = ("skills", "hobbies", "availability")

# The catalogues (code → label). Codes are stored, labels are shown in the reader's language.
OCCUPATIONS = {
    "retired": N_("Retired"), "student": N_("Student"), "teacher": N_("Teacher"), "medical": N_("Medical worker"),
    "engineer": N_("Engineer"), "civil_servant": N_("Civil servant"), "worker": N_("Worker"),
    "self_employed": N_("Self-employed"), "other": N_("Other occupation"),
}
HOBBIES = {
    "reading": N_("Reading"), "sports": N_("Sports"), "music": N_("Music"), "dance": N_("Dance"),
    "art": N_("Calligraphy and painting"), "cooking": N_("Cooking"), "gardening": N_("Gardening"),
    "photography": N_("Photography"), "crafts": N_("Handicrafts"), "computers": N_("Computers"),
    "chess": N_("Chess and cards"), "travel": N_("Travel"),
}
KINDS = {
    "party_member": N_("Party member"), "social_org": N_("Social organisation"),
    "property": N_("Property management"), "business": N_("Business (service alliance)"),
    "resident": N_("Resident volunteer"),
}
AVAILABILITY = {"weekday": N_("Weekday daytime"), "evening": N_("Evenings"), "weekend": N_("Weekends")}
BUSINESS = "business"
# How the profile is shown (bot.views.registration): its fields in order with their labels, and the rest.
PROFILE_FIELDS = {
    "name": N_("Name"), "phone": N_("Phone"), "community": N_("Community"), "skills": N_("Skills"),
    "occupation": N_("Occupation"), "hobbies": N_("Hobbies"), "kind": N_("Volunteer type"),
    "organisation": N_("Business name"), "availability": N_("Available"), "registry": N_("Registry number"),
}
MEMBERSHIP_STATUS = {"pending": N_("waiting for approval"), "approved": N_("approved"),
                     "rejected": N_("not approved")}
DONE_LABEL = N_("Done ➡️")
LIST_SEPARATOR = N_(", ")
