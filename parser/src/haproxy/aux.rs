//! The auxiliary sections rsproxy supports: `userlist` and `http-errors`.

use super::did_you_mean;
use super::kw::{Args, Support};
use crate::ir::haproxy::{ErrorFile, HttpErrors, Password, User, UserGroup, Userlist};
use crate::{Diagnostics, Spanned};

/// `userlist NAME`
pub fn open_userlist(a: Args, d: &mut Diagnostics) -> Option<Userlist> {
    let Some(name) = a.get(1) else {
        d.push(a.error(0, "'userlist' expects <name> as arguments."));
        return None;
    };
    Some(Userlist {
        name: Spanned::new(name.to_string(), a.span(1)),
        groups: Vec::new(),
        users: Vec::new(),
    })
}

/// `group NAME [users U,U...]` | `user NAME [password HASH | insecure-password PW] [groups G,G...]`
pub fn parse_userlist_line(u: &mut Userlist, a: Args, d: &mut Diagnostics) {
    match a.at(0) {
        "group" => {
            let Some(name) = a.get(1) else {
                return d.push(a.error(0, "'group' expects <name> as arguments."));
            };
            if u.groups.iter().any(|g| g.node.name == name) {
                return d.push(a.error(
                    1,
                    format!(
                        "'userlist' '{}': group '{name}' is already defined.",
                        u.name.node
                    ),
                ));
            }
            let mut users = Vec::new();
            let mut i = 2;
            while i < a.len() {
                match a.at(i) {
                    "users" => {
                        users.extend(
                            a.at(i + 1)
                                .split(',')
                                .filter(|s| !s.is_empty())
                                .map(str::to_string),
                        );
                        i += 2;
                    }
                    other => {
                        return d.push(a.error(
                            i,
                            format!("'group' only supports 'users' option (got '{other}')."),
                        ));
                    }
                }
            }
            u.groups.push(Spanned::new(
                UserGroup {
                    name: name.to_string(),
                    users,
                },
                a.span(1),
            ));
        }
        "user" => {
            let Some(name) = a.get(1) else {
                return d.push(a.error(0, "'user' expects <name> as arguments."));
            };
            if u.users.iter().any(|x| x.node.name == name) {
                return d.push(a.error(
                    1,
                    format!(
                        "'userlist' '{}': user '{name}' is already defined.",
                        u.name.node
                    ),
                ));
            }
            let mut password = None;
            let mut groups = Vec::new();
            let mut i = 2;
            while i < a.len() {
                let val = a.get(i + 1).map(str::to_string);
                match (a.at(i), val) {
                    ("password", Some(v)) => password = Some(Password::Crypt(v)),
                    ("insecure-password", Some(v)) => password = Some(Password::Insecure(v)),
                    ("groups", Some(v)) => {
                        groups.extend(v.split(',').filter(|s| !s.is_empty()).map(str::to_string))
                    }
                    (other, _) => {
                        return d.push(a.error(
                            i,
                            format!("'user' only supports 'password', 'insecure-password' and 'groups' options (got '{other}')."),
                        ));
                    }
                }
                i += 2;
            }
            let password = password.unwrap_or(Password::Insecure(String::new()));
            u.users.push(Spanned::new(
                User {
                    name: name.to_string(),
                    password,
                    groups,
                },
                a.span(1),
            ));
        }
        other => {
            let mut m = format!("unknown keyword '{other}' in 'userlist' section");
            if let Some(h) = did_you_mean(other, ["group", "user"]) {
                m = format!("{m}; {h}");
            }
            d.push(a.error(0, m));
        }
    }
}

/// `http-errors NAME`
pub fn open_http_errors(a: Args, d: &mut Diagnostics) -> Option<HttpErrors> {
    let Some(name) = a.get(1) else {
        d.push(a.error(0, "'http-errors' expects <name> as argument."));
        return None;
    };
    Some(HttpErrors {
        name: Spanned::new(name.to_string(), a.span(1)),
        errorfiles: Vec::new(),
    })
}

/// `errorfile CODE FILE`
pub fn parse_http_errors_line(h: &mut HttpErrors, a: Args, d: &mut Diagnostics) {
    if a.at(0) != "errorfile" {
        return d.push(a.error(
            0,
            format!("unknown keyword '{}' in 'http-errors' section", a.at(0)),
        ));
    }
    let (Some(code), Some(path)) = (a.get(1), a.get(2)) else {
        return d.push(a.error(
            0,
            "'errorfile' expects <status_code> and <file> as arguments.",
        ));
    };
    let status = code
        .parse::<u16>()
        .ok()
        .filter(|c| super::proxy::ERRORFILE_CODES.contains(c));
    let Some(status) = status else {
        return d.push(a.error(1, format!("status code '{code}' not handled.")));
    };
    let response = match super::errorfile::load(path) {
        Ok(r) => r,
        Err(m) => return d.push(a.error(2, m)),
    };
    h.errorfiles.push(Spanned::new(
        ErrorFile {
            status,
            path: path.to_string(),
            response,
        },
        a.span(2),
    ));
}

pub fn keyword_names() -> Vec<(&'static str, &'static str, Support)> {
    vec![
        ("userlist", "group", Support::Yes),
        ("userlist", "user", Support::Yes),
        ("http-errors", "errorfile", Support::Yes),
    ]
}
