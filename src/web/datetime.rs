//! Dates and times as forms take them: typed in the site's time zone (a date like 2026-12-10, a
//! time like 19:00), read with their problems said in the reader's language, and turned into
//! Unix seconds. The café's sessions and the expert Q&A slots both use these.

use std::str::FromStr;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use crate::admin::site::SiteSettings;
use crate::i18n::Tr;
use crate::web::form::FieldErrors;

/// The date typed into `field`, or its problem added to `errors`.
pub fn read_date(
    t: Tr,
    errors: &mut FieldErrors,
    field: &'static str,
    typed: &str,
) -> Option<Date> {
    let typed = typed.trim();
    if typed.is_empty() {
        errors.add(field, t.s("datetime.error.date_missing").into());
        return None;
    }
    let date = Date::from_str(typed).ok();
    if date.is_none() {
        errors.add(field, t.s("datetime.error.bad_date").into());
    }
    date
}

/// The time of day typed into `field` (whole minutes), or its problem added to `errors`.
pub fn read_time(
    t: Tr,
    errors: &mut FieldErrors,
    field: &'static str,
    typed: &str,
) -> Option<Time> {
    let typed = typed.trim();
    if typed.is_empty() {
        errors.add(field, t.s("datetime.error.time_missing").into());
        return None;
    }
    // Whole minutes: a browser's time input sends 19:00, or 19:00:00.
    let time = Time::from_str(typed)
        .ok()
        .and_then(|time| time.round(jiff::Unit::Minute).ok());
    if time.is_none() {
        errors.add(field, t.s("datetime.error.bad_time").into());
    }
    time
}

/// `date` at `time` in `zone`, as Unix seconds; `None` when it is out of range. A time a
/// daylight-saving change skips is moved forward, as clocks are.
pub fn instant(zone: &TimeZone, date: Date, time: Time) -> Option<i64> {
    date.to_datetime(time)
        .to_zoned(zone.clone())
        .ok()
        .map(|zoned| zoned.timestamp().as_second())
}

/// "Dates and times are in Asia/Tokyo time."
pub fn zone_note(site: &SiteSettings, t: Tr) -> String {
    let site = site.get();
    t.f("datetime.zone_note", &[("zone", site.time_zone_name())])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;
    use jiff::civil::{date, time};

    #[test]
    fn dates_and_times_are_read_with_their_problems() {
        let t = Locale::En.tr();
        let mut errors = FieldErrors::default();
        assert_eq!(
            read_date(t, &mut errors, "date", " 2027-01-14 "),
            Some(date(2027, 1, 14))
        );
        assert_eq!(
            read_time(t, &mut errors, "start", "19:00:00"),
            Some(time(19, 0, 0, 0))
        );
        assert!(errors.is_empty());
        assert_eq!(read_date(t, &mut errors, "date", "2027-02-30"), None);
        assert_eq!(read_time(t, &mut errors, "start", ""), None);
        assert_eq!(
            errors.shown_at("date"),
            vec!["Please enter the date like 2026-12-10."]
        );
        assert_eq!(errors.shown_at("start"), vec!["Please enter a time."]);
        let tokyo = TimeZone::get("Asia/Tokyo").expect("zone");
        // 2027-01-14 19:00 in Tokyo is 10:00 UTC.
        assert_eq!(
            instant(&tokyo, date(2027, 1, 14), time(19, 0, 0, 0)),
            Some(1_799_920_800)
        );
    }
}
