//! The database connection's password policy, as Auth0 defines it: a
//! strength level (`passwordPolicy`: none, low, fair, good, excellent), an
//! optional minimum length (`password_complexity_options.min_length`), no
//! personal information (`password_no_personal_info`) and a dictionary of
//! refused passwords (`password_dictionary`). Signup (page and
//! `/dbconnections/signup`), the password reset page, the Management API and
//! the CLI all check a new password here, so they refuse with the same words.
//!
//! Length counts characters (Unicode scalar values), not bytes. The upper
//! bound [`MAX_PASSWORD_BYTES`] caps the argon2id input.

use crate::model::User;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The most bytes a password may have.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Auth0's `passwordPolicy` levels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    /// At least 1 character.
    None,
    /// At least 6 characters.
    #[default]
    Low,
    /// At least 8 characters with lower case, upper case and numbers.
    Fair,
    /// At least 8 characters with 3 of: lower, upper, numbers, special.
    Good,
    /// At least 10 characters with 3 of the 4 kinds and no more than 2
    /// identical characters in a row.
    Excellent,
}

/// A connection's whole password policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// The level (`passwordPolicy`).
    pub strength: Strength,
    /// Overrides the level's minimum length (1–128).
    pub min_length: Option<u32>,
    /// Refuse passwords that contain the user's name, username, nickname or
    /// the part of the email before the `@`.
    pub no_personal_info: bool,
    /// Refuse the common passwords Gatehouse knows, and `dictionary_words`.
    pub dictionary: bool,
    /// The tenant's own refused words (`password_dictionary.dictionary`).
    pub dictionary_words: Vec<String>,
}

impl Default for PasswordPolicy {
    /// Gatehouse's default: `low` with at least 8 characters and the
    /// dictionary on (length and a blocklist rather than composition rules).
    fn default() -> Self {
        Self {
            strength: Strength::Low,
            min_length: Some(8),
            no_personal_info: false,
            dictionary: true,
            dictionary_words: Vec::new(),
        }
    }
}

/// What the policy knows about the user whose password it checks.
#[derive(Debug, Clone, Copy, Default)]
#[allow(missing_docs)]
pub struct PersonalInfo<'a> {
    pub email: &'a str,
    pub username: Option<&'a str>,
    pub name: Option<&'a str>,
    pub nickname: Option<&'a str>,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
}

impl<'a> PersonalInfo<'a> {
    /// What a stored user's profile tells.
    pub fn of(user: &'a User) -> Self {
        Self {
            email: user.email.as_deref().unwrap_or(""),
            username: None,
            name: user.name.as_deref(),
            nickname: user.nickname.as_deref(),
            given_name: user.given_name.as_deref(),
            family_name: user.family_name.as_deref(),
        }
    }
}

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// Fails the strength rules; `rules` is Auth0's `description.rules`.
    TooWeak {
        /// Each rule with `verified`, as Auth0 reports them.
        rules: Value,
    },
    /// In the dictionary.
    TooCommon,
    /// Contains the user's personal information.
    PersonalInfo,
    /// More than [`MAX_PASSWORD_BYTES`] bytes.
    TooLong,
}

impl PasswordPolicy {
    /// Checks a new password; the first failing rule group decides the error
    /// (length cap, then strength, then personal information, then dictionary).
    pub fn check(&self, password: &str, user: &PersonalInfo<'_>) -> Result<(), PolicyError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(PolicyError::TooLong);
        }
        let rules = self.rules();
        if !rules.iter().all(|rule| rule.verified(password)) {
            let missing = rules.iter().map(|rule| rule.missing(password)).collect();
            return Err(PolicyError::TooWeak {
                rules: Value::Array(missing),
            });
        }
        if self.no_personal_info && contains_personal_info(password, user) {
            return Err(PolicyError::PersonalInfo);
        }
        if self.dictionary && self.is_refused_word(password) {
            return Err(PolicyError::TooCommon);
        }
        Ok(())
    }

    /// A random password of letters and digits this policy accepts for the
    /// user, at least 20 characters long (or the policy's minimum): for the
    /// CLI and the bootstrap admin. A draw can break a rule by chance (three
    /// identical characters in a row), so a few are tried.
    pub fn generate(&self, user: &PersonalInfo<'_>) -> Option<String> {
        let length = usize::try_from(self.min_chars()).unwrap_or(0).max(20);
        (0..100)
            .map(|_| crate::ids::random_alphanumeric(length))
            .find(|p| self.check(p, user).is_ok())
    }

    /// The fewest characters a password may have: `min_length` when set,
    /// else the level's own.
    pub fn min_chars(&self) -> u32 {
        self.min_length.unwrap_or(match self.strength {
            Strength::None => 1,
            Strength::Low => 6,
            Strength::Fair | Strength::Good => 8,
            Strength::Excellent => 10,
        })
    }

    /// Auth0's `policy` text: one `* ` line per rule, items indented
    /// (`* At least 8 characters in length`).
    pub fn describe(&self) -> String {
        self.rules()
            .iter()
            .map(|rule| {
                let mut text = format!("* {}", rule.text());
                for item in rule.items() {
                    text.push_str("\n * ");
                    text.push_str(item.message);
                }
                text
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The same rules as short sentences, for the pages' hint under the field.
    pub fn rule_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .rules()
            .iter()
            .map(|rule| {
                let items: Vec<&str> = rule.items().iter().map(|item| item.message).collect();
                if items.is_empty() {
                    rule.text()
                } else {
                    format!("{} {}", rule.text(), items.join(", "))
                }
            })
            .collect();
        if self.no_personal_info {
            lines.push("Not containing your name, username or email".into());
        }
        if self.dictionary {
            lines.push("Not a commonly used password".into());
        }
        lines
    }

    /// password-sheriff's rules for the level, with `min_length` in place of
    /// the level's length.
    fn rules(&self) -> Vec<Rule> {
        let length = Rule::Length(self.min_chars());
        match self.strength {
            Strength::None | Strength::Low => vec![length],
            Strength::Fair => vec![length, Rule::Contains(&CHARSETS[..3])],
            Strength::Good => vec![length, Rule::ContainsAtLeast(3, &CHARSETS)],
            Strength::Excellent => vec![
                length,
                Rule::ContainsAtLeast(3, &CHARSETS),
                Rule::IdenticalChars(2),
            ],
        }
    }

    /// In the built-in list or the tenant's words, ignoring case.
    fn is_refused_word(&self, password: &str) -> bool {
        let lower = password.to_lowercase();
        common_passwords().any(|common| common == lower)
            || self
                .dictionary_words
                .iter()
                .any(|word| word.to_lowercase() == lower)
    }
}

/// The built-in dictionary: the lines of `common_passwords.txt` that are not
/// comments, in lower case.
fn common_passwords() -> impl Iterator<Item = &'static str> {
    COMMON_PASSWORDS
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// Values shorter than this are not looked for: a two-letter name would
/// refuse too many passwords.
const MIN_PERSONAL_PART_CHARS: usize = 3;

/// Whether the password contains, ignoring case, one of the user's values or
/// a part of one (split at spaces and punctuation, as in `john.doe`).
fn contains_personal_info(password: &str, user: &PersonalInfo<'_>) -> bool {
    let lower = password.to_lowercase();
    let local_part = user.email.split('@').next();
    [
        user.name,
        user.username,
        user.nickname,
        user.given_name,
        user.family_name,
        local_part,
    ]
    .into_iter()
    .flatten()
    .flat_map(|value| {
        std::iter::once(value)
            .chain(value.split(|c: char| c.is_whitespace() || c.is_ascii_punctuation()))
    })
    .map(|part| part.trim().to_lowercase())
    .filter(|part| part.chars().count() >= MIN_PERSONAL_PART_CHARS)
    .any(|part| lower.contains(&part))
}

/// A kind of character password-sheriff counts (ASCII only, as its regular
/// expressions are).
struct Charset {
    code: &'static str,
    message: &'static str,
    test: fn(char) -> bool,
}

/// lower, upper, numbers, special: password-sheriff's order.
const CHARSETS: [Charset; 4] = [
    Charset {
        code: "lowerCase",
        message: "lower case letters (a-z)",
        test: |c| c.is_ascii_lowercase(),
    },
    Charset {
        code: "upperCase",
        message: "upper case letters (A-Z)",
        test: |c| c.is_ascii_uppercase(),
    },
    Charset {
        code: "numbers",
        message: "numbers (i.e. 0-9)",
        test: |c| c.is_ascii_digit(),
    },
    // OWASP's special characters: the space and ASCII punctuation.
    Charset {
        code: "specialCharacters",
        message: "special characters (e.g. !@#$%^&*)",
        test: |c| c == ' ' || c.is_ascii_punctuation(),
    },
];

impl Charset {
    fn found_in(&self, password: &str) -> bool {
        password.chars().any(self.test)
    }

    fn missing(&self, password: &str) -> Value {
        json!({"message": self.message, "code": self.code, "verified": self.found_in(password)})
    }
}

/// One of password-sheriff's rules.
enum Rule {
    /// `length`: at least this many characters.
    Length(u32),
    /// `contains`: every one of the kinds.
    Contains(&'static [Charset]),
    /// `containsAtLeast`: at least this many of the kinds.
    ContainsAtLeast(usize, &'static [Charset]),
    /// `identicalChars`: no more than this many identical characters in a row.
    IdenticalChars(usize),
}

impl Rule {
    fn verified(&self, password: &str) -> bool {
        match self {
            Rule::Length(min) => !password.is_empty() && password.chars().count() >= *min as usize,
            Rule::Contains(sets) => sets.iter().all(|set| set.found_in(password)),
            Rule::ContainsAtLeast(at_least, sets) => {
                sets.iter().filter(|set| set.found_in(password)).count() >= *at_least
            }
            Rule::IdenticalChars(max) => longest_run(password) <= *max,
        }
    }

    fn message(&self) -> &'static str {
        match self {
            Rule::Length(1) => "Non-empty password required",
            Rule::Length(_) => "At least %d characters in length",
            Rule::Contains(_) => "Should contain:",
            Rule::ContainsAtLeast(..) => {
                "Contain at least %d of the following %d types of characters:"
            }
            Rule::IdenticalChars(_) => {
                "No more than %d identical characters in a row (e.g., \"%s\" not allowed)"
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Rule::Length(1) => "nonEmpty",
            Rule::Length(_) => "lengthAtLeast",
            Rule::Contains(_) => "shouldContain",
            Rule::ContainsAtLeast(..) => "containsAtLeast",
            Rule::IdenticalChars(_) => "identicalChars",
        }
    }

    /// The values for the message's `%d` and `%s`, in order.
    fn format(&self) -> Vec<Value> {
        match self {
            Rule::Length(1) | Rule::Contains(_) => Vec::new(),
            Rule::Length(min) => vec![json!(min)],
            Rule::ContainsAtLeast(at_least, sets) => vec![json!(at_least), json!(sets.len())],
            Rule::IdenticalChars(max) => vec![json!(max), json!("a".repeat(max + 1))],
        }
    }

    fn items(&self) -> &'static [Charset] {
        match self {
            Rule::Contains(sets) | Rule::ContainsAtLeast(_, sets) => sets,
            Rule::Length(_) | Rule::IdenticalChars(_) => &[],
        }
    }

    /// The message with its format values put in.
    fn text(&self) -> String {
        let mut values = self.format().into_iter();
        let mut text = String::new();
        let mut rest = self.message();
        while let Some(at) = rest.find('%') {
            text.push_str(rest.get(..at).unwrap_or_default());
            let spec = rest.get(at..at + 2).unwrap_or("%");
            match values.next() {
                Some(Value::String(s)) if spec == "%s" => text.push_str(&s),
                Some(value) if spec == "%d" => text.push_str(&value.to_string()),
                _ => text.push_str(spec),
            }
            rest = rest.get(at + spec.len()..).unwrap_or_default();
        }
        text.push_str(rest);
        text
    }

    /// password-sheriff's `missing()` entry: the explanation with `verified`.
    fn missing(&self, password: &str) -> Value {
        let mut entry = Map::new();
        entry.insert("message".into(), json!(self.message()));
        entry.insert("code".into(), json!(self.code()));
        let format = self.format();
        if !format.is_empty() {
            entry.insert("format".into(), Value::Array(format));
        }
        let items = self.items();
        if !items.is_empty() {
            let items = items.iter().map(|set| set.missing(password)).collect();
            entry.insert("items".into(), Value::Array(items));
        }
        entry.insert("verified".into(), json!(self.verified(password)));
        Value::Object(entry)
    }
}

/// The most identical characters in a row.
fn longest_run(password: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    let mut previous = None;
    for c in password.chars() {
        run = if previous == Some(c) { run + 1 } else { 1 };
        previous = Some(c);
        longest = longest.max(run);
    }
    longest
}

impl PolicyError {
    /// Auth0's error `name`: `PasswordStrengthError`, `PasswordDictionaryError`,
    /// `PasswordNoUserInfoError`, `PasswordMaxLengthExceededError`.
    pub fn error_name(&self) -> &'static str {
        match self {
            PolicyError::TooWeak { .. } => "PasswordStrengthError",
            PolicyError::TooCommon => "PasswordDictionaryError",
            PolicyError::PersonalInfo => "PasswordNoUserInfoError",
            PolicyError::TooLong => "PasswordMaxLengthExceededError",
        }
    }

    /// Auth0's `message`: "Password is too weak", "Password is too common",
    /// "Password contains user information", "Password is too long".
    pub fn message(&self) -> &'static str {
        match self {
            PolicyError::TooWeak { .. } => "Password is too weak",
            PolicyError::TooCommon => "Password is too common",
            PolicyError::PersonalInfo => "Password contains user information",
            PolicyError::TooLong => "Password is too long",
        }
    }

    /// The Management API's `message`: `"{name}: {message}"`.
    pub fn management_message(&self) -> String {
        format!("{}: {}", self.error_name(), self.message())
    }

    /// The 400 body of `/dbconnections/signup` (and the Authentication API):
    /// `{name, message, code: "invalid_password", description, policy, statusCode: 400}`.
    ///
    /// As Auth0 answers: a weak password's `description` is the rules with
    /// `verified` and the body carries the `policy` text; the other errors
    /// describe themselves in a sentence and carry no `policy`.
    pub fn authentication_api_body(&self, policy: &PasswordPolicy) -> Value {
        let (description, policy_text) = match self {
            PolicyError::TooWeak { rules } => (
                json!({"rules": rules, "verified": false}),
                Some(policy.describe()),
            ),
            PolicyError::TooCommon => (json!(DICTIONARY_DESCRIPTION), None),
            PolicyError::PersonalInfo | PolicyError::TooLong => (json!(self.message()), None),
        };
        let mut body = Map::new();
        body.insert("name".into(), json!(self.error_name()));
        body.insert("message".into(), json!(self.message()));
        body.insert("code".into(), json!("invalid_password"));
        body.insert("description".into(), description);
        if let Some(text) = policy_text {
            body.insert("policy".into(), json!(text));
        }
        body.insert("statusCode".into(), json!(400));
        Value::Object(body)
    }
}

/// Auth0's `description` of a `PasswordDictionaryError`.
const DICTIONARY_DESCRIPTION: &str = "Password is not allowed, it might be too common.";

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn level(strength: Strength) -> PasswordPolicy {
        PasswordPolicy {
            strength,
            min_length: None,
            no_personal_info: false,
            dictionary: false,
            dictionary_words: Vec::new(),
        }
    }

    fn passes(policy: &PasswordPolicy, password: &str) -> bool {
        policy.check(password, &PersonalInfo::default()).is_ok()
    }

    #[test]
    fn each_level_at_its_edges() {
        let table: &[(Strength, &str, bool)] = &[
            (Strength::None, "", false),
            (Strength::None, "a", true),
            (Strength::Low, "abcde", false),
            (Strength::Low, "abcdef", true),
            (Strength::Fair, "Abcdef1", false),
            (Strength::Fair, "Abcdefg1", true),
            (Strength::Fair, "abcdefg1", false),
            (Strength::Fair, "ABCDEFG1", false),
            (Strength::Fair, "Abcdefgh", false),
            (Strength::Fair, "Abcdefg!", false),
            (Strength::Good, "Abcdef1", false),
            (Strength::Good, "Abcdefg1", true),
            (Strength::Good, "abcdefg1", false),
            (Strength::Good, "abcdef1!", true),
            (Strength::Good, "ABCDEF1!", true),
            (Strength::Good, "abcd efg1", true),
            (Strength::Good, "abcdefgh!", false),
            (Strength::Excellent, "Abcdefgh1", false),
            (Strength::Excellent, "Abcdefghi1", true),
            (Strength::Excellent, "Aabcdefgh1", true),
            (Strength::Excellent, "Aaabcdefgh1", true),
            (Strength::Excellent, "aaabcdefgH1", false),
            (Strength::Excellent, "Abcdefgh111", false),
            (Strength::Excellent, "abcdefghij", false),
        ];
        for (strength, password, expected) in table {
            assert_eq!(
                passes(&level(*strength), password),
                *expected,
                "{strength:?} {password:?}"
            );
        }
    }

    #[test]
    fn letters_outside_ascii_count_for_length_only() {
        // password-sheriff's classes are ASCII: é is no lower case letter.
        let good = level(Strength::Good);
        assert!(!passes(&good, "ÉÉÉÉééé1"));
        // Length counts characters, not bytes: 5 two-byte letters are 5.
        let low = level(Strength::Low);
        assert!(!passes(&low, "ééééé"));
        assert!(passes(&low, "éééééé"));
        assert!(passes(&low, "🔑🔑🔑🔑🔑🔑"));
        assert!(!passes(&low, "🔑🔑🔑🔑🔑"));
    }

    #[test]
    fn min_length_overrides_the_level() {
        let mut policy = level(Strength::Good);
        policy.min_length = Some(12);
        assert!(!passes(&policy, "Abcdefgh1!x"));
        assert!(passes(&policy, "Abcdefgh1!xy"));
        policy.strength = Strength::Excellent;
        policy.min_length = Some(8);
        assert!(passes(&policy, "Abcdefg1"));
        policy.strength = Strength::None;
        policy.min_length = Some(1);
        assert!(passes(&policy, "x"));
        assert!(!passes(&policy, ""));
        assert_eq!(policy.describe(), "* Non-empty password required");
    }

    #[test]
    fn gatehouse_default_is_eight_characters_and_the_dictionary() {
        let policy = PasswordPolicy::default();
        assert!(passes(&policy, "correct horse battery staple"));
        assert!(passes(&policy, "a-long-enough-password-1"));
        assert!(!passes(&policy, "seven77"));
        assert_eq!(
            policy.check("Password123", &PersonalInfo::default()),
            Err(PolicyError::TooCommon)
        );
        assert_eq!(policy.min_chars(), 8);
        assert_eq!(policy.describe(), "* At least 8 characters in length");
    }

    #[test]
    fn describe_is_auth0s_policy_text() {
        assert_eq!(
            level(Strength::Good).describe(),
            "* At least 8 characters in length\n\
             * Contain at least 3 of the following 4 types of characters:\n \
             * lower case letters (a-z)\n \
             * upper case letters (A-Z)\n \
             * numbers (i.e. 0-9)\n \
             * special characters (e.g. !@#$%^&*)"
        );
        assert_eq!(
            level(Strength::Fair).describe(),
            "* At least 8 characters in length\n* Should contain:\n \
             * lower case letters (a-z)\n * upper case letters (A-Z)\n * numbers (i.e. 0-9)"
        );
        assert!(level(Strength::Excellent).describe().ends_with(
            "\n* No more than 2 identical characters in a row (e.g., \"aaa\" not allowed)"
        ));
        assert_eq!(
            level(Strength::None).describe(),
            "* Non-empty password required"
        );
    }

    #[test]
    fn rule_lines_are_one_sentence_per_rule() {
        let mut policy = level(Strength::Excellent);
        policy.dictionary = true;
        assert_eq!(
            policy.rule_lines(),
            vec![
                "At least 10 characters in length".to_string(),
                "Contain at least 3 of the following 4 types of characters: lower case letters \
                 (a-z), upper case letters (A-Z), numbers (i.e. 0-9), special characters (e.g. \
                 !@#$%^&*)"
                    .to_string(),
                "No more than 2 identical characters in a row (e.g., \"aaa\" not allowed)"
                    .to_string(),
                "Not a commonly used password".to_string(),
            ]
        );
    }

    #[test]
    fn too_weak_body_is_auth0s() {
        let policy = level(Strength::Good);
        let error = policy
            .check("abcdefg", &PersonalInfo::default())
            .unwrap_err();
        assert_eq!(
            error.management_message(),
            "PasswordStrengthError: Password is too weak"
        );
        let expected = json!({
            "name": "PasswordStrengthError",
            "message": "Password is too weak",
            "code": "invalid_password",
            "description": {
                "rules": [
                    {"message": "At least %d characters in length", "format": [8],
                     "code": "lengthAtLeast", "verified": false},
                    {"message": "Contain at least %d of the following %d types of characters:",
                     "code": "containsAtLeast", "format": [3, 4], "verified": false,
                     "items": [
                        {"message": "lower case letters (a-z)", "code": "lowerCase", "verified": true},
                        {"message": "upper case letters (A-Z)", "code": "upperCase", "verified": false},
                        {"message": "numbers (i.e. 0-9)", "code": "numbers", "verified": false},
                        {"message": "special characters (e.g. !@#$%^&*)", "code": "specialCharacters",
                         "verified": false}
                     ]}
                ],
                "verified": false
            },
            "policy": policy.describe(),
            "statusCode": 400
        });
        assert_eq!(error.authentication_api_body(&policy), expected);
    }

    #[test]
    fn excellent_reports_identical_characters() {
        let error = level(Strength::Excellent)
            .check("Abcdefgh111", &PersonalInfo::default())
            .unwrap_err();
        let PolicyError::TooWeak { rules } = error else {
            panic!("{error:?}")
        };
        assert_eq!(
            rules[2],
            json!({"message": "No more than %d identical characters in a row (e.g., \"%s\" not allowed)",
                   "code": "identicalChars", "format": [2, "aaa"], "verified": false})
        );
        assert_eq!(rules[0]["verified"], true);
        assert_eq!(rules[1]["verified"], true);
    }

    #[test]
    fn fair_reports_should_contain() {
        let PolicyError::TooWeak { rules } = level(Strength::Fair)
            .check("abcdefgh", &PersonalInfo::default())
            .unwrap_err()
        else {
            panic!("weak")
        };
        assert_eq!(rules[1]["code"], "shouldContain");
        assert_eq!(rules[1]["message"], "Should contain:");
        assert!(rules[1].get("format").is_none());
        assert_eq!(rules[1]["items"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn personal_information_is_refused_ignoring_case() {
        let mut policy = level(Strength::Low);
        policy.no_personal_info = true;
        let user = PersonalInfo {
            email: "john.doe@example.com",
            username: Some("jd"),
            name: Some("Johnny Appleseed"),
            nickname: Some("Hawk"),
            given_name: Some("Jonathan"),
            family_name: Some("Doe-Smith"),
        };
        for refused in [
            "my-JOHN.DOE-secret",
            "xxAPPLESEEDxx",
            "hawk-eye-2000",
            "jonathan-rules",
            "smith&wesson",
            "Doe rae me fa",
        ] {
            assert_eq!(
                policy.check(refused, &user),
                Err(PolicyError::PersonalInfo),
                "{refused}"
            );
        }
        // "jd" is too short to look for.
        assert!(policy.check("jdjdjdjd-ok", &user).is_ok());
        assert!(policy.check("correct horse battery staple", &user).is_ok());
        policy.no_personal_info = false;
        assert!(policy.check("my-john.doe-secret", &user).is_ok());
    }

    #[test]
    fn the_dictionary_refuses_common_and_tenant_words() {
        let mut policy = level(Strength::None);
        policy.dictionary = true;
        policy.dictionary_words = vec!["Gatehouse-Corp".into()];
        let nobody = PersonalInfo::default();
        for refused in [
            "123456",
            "PASSWORD",
            "Qwerty123",
            "gatehouse-corp",
            "GATEHOUSE-CORP",
        ] {
            assert_eq!(
                policy.check(refused, &nobody),
                Err(PolicyError::TooCommon),
                "{refused}"
            );
        }
        // The whole password is compared, not a part of it.
        assert!(policy.check("gatehouse-corp-2", &nobody).is_ok());
        assert!(policy.check("my password123 is long", &nobody).is_ok());
        policy.dictionary = false;
        assert!(policy.check("123456", &nobody).is_ok());
        assert!(common_passwords().all(|p| p == p.to_lowercase()));
        assert!(common_passwords().count() > 300);
    }

    #[test]
    fn bytes_are_capped_before_anything_else() {
        let policy = level(Strength::Excellent);
        let at_cap = format!("Ab1!{}", "xy".repeat((MAX_PASSWORD_BYTES - 4) / 2));
        assert_eq!(at_cap.len(), MAX_PASSWORD_BYTES);
        assert!(policy.check(&at_cap, &PersonalInfo::default()).is_ok());
        let over = format!("{at_cap}z");
        assert_eq!(
            policy.check(&over, &PersonalInfo::default()),
            Err(PolicyError::TooLong)
        );
        // 342 three-byte characters are 1026 bytes, though few characters.
        let wide = "€".repeat(342);
        assert_eq!(
            level(Strength::None).check(&wide, &PersonalInfo::default()),
            Err(PolicyError::TooLong)
        );
    }

    #[test]
    fn every_error_has_auth0s_name_message_and_body() {
        let policy = PasswordPolicy::default();
        let cases = [
            (
                PolicyError::TooCommon,
                "PasswordDictionaryError",
                "Password is too common",
            ),
            (
                PolicyError::PersonalInfo,
                "PasswordNoUserInfoError",
                "Password contains user information",
            ),
            (
                PolicyError::TooLong,
                "PasswordMaxLengthExceededError",
                "Password is too long",
            ),
        ];
        for (error, name, message) in cases {
            assert_eq!(error.management_message(), format!("{name}: {message}"));
            let body = error.authentication_api_body(&policy);
            assert_eq!(body["name"], name);
            assert_eq!(body["message"], message);
            assert_eq!(body["code"], "invalid_password");
            assert_eq!(body["statusCode"], 400);
            assert!(body["description"].is_string());
        }
        assert_eq!(
            PolicyError::TooCommon.authentication_api_body(&policy)["description"],
            "Password is not allowed, it might be too common."
        );
    }

    #[test]
    fn generated_passwords_meet_every_level() {
        for strength in [
            Strength::Low,
            Strength::Fair,
            Strength::Good,
            Strength::Excellent,
        ] {
            let mut policy = level(strength);
            policy.dictionary = true;
            let user = PersonalInfo::default();
            let password = policy.generate(&user).unwrap();
            assert!(policy.check(&password, &user).is_ok(), "{strength:?}");
            assert_eq!(password.chars().count(), 20);
            policy.min_length = Some(40);
            assert_eq!(policy.generate(&user).unwrap().chars().count(), 40);
        }
    }

    #[test]
    fn strength_names_are_auth0s() {
        for (strength, name) in [
            (Strength::None, "none"),
            (Strength::Low, "low"),
            (Strength::Fair, "fair"),
            (Strength::Good, "good"),
            (Strength::Excellent, "excellent"),
        ] {
            assert_eq!(serde_json::to_value(strength).unwrap(), json!(name));
        }
        assert!(serde_json::from_value::<Strength>(json!("strong")).is_err());
    }
}
