//! The built-in questions a survey can start from: common engagement topics, worded once so
//! that workplaces asking the same question can be compared (benchmarks use these keys).

use super::QuestionKind;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibraryQuestion {
    pub key: &'static str,
    pub topic: &'static str,
    pub prompt: &'static str,
    pub kind: LibraryKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LibraryKind {
    Scale { low: &'static str, high: &'static str },
    Enps,
    Text,
}

impl LibraryQuestion {
    pub fn kind(&self) -> QuestionKind {
        match self.kind {
            LibraryKind::Scale { low, high } => QuestionKind::Scale {
                low: low.into(),
                high: high.into(),
            },
            LibraryKind::Enps => QuestionKind::Enps,
            LibraryKind::Text => QuestionKind::Text,
        }
    }
}

const AGREE: LibraryKind = LibraryKind::Scale {
    low: "Strongly disagree",
    high: "Strongly agree",
};

pub const QUESTIONS: &[LibraryQuestion] = &[
    LibraryQuestion {
        key: "wellbeing",
        topic: "Wellbeing",
        prompt: "How have you been feeling at work this week?",
        kind: LibraryKind::Scale {
            low: "Very bad",
            high: "Very good",
        },
    },
    LibraryQuestion {
        key: "workload",
        topic: "Workload",
        prompt: "My workload is manageable.",
        kind: AGREE,
    },
    LibraryQuestion {
        key: "recognition",
        topic: "Recognition",
        prompt: "I get recognition when I do good work.",
        kind: AGREE,
    },
    LibraryQuestion {
        key: "manager_relationship",
        topic: "Relationship with manager",
        prompt: "My manager supports me when I need it.",
        kind: AGREE,
    },
    LibraryQuestion {
        key: "growth",
        topic: "Growth",
        prompt: "I am learning and growing in my role.",
        kind: AGREE,
    },
    LibraryQuestion {
        key: "autonomy",
        topic: "Autonomy",
        prompt: "I have a say in how I do my work.",
        kind: AGREE,
    },
    LibraryQuestion {
        key: "team",
        topic: "Team",
        prompt: "I can rely on the people I work with.",
        kind: AGREE,
    },
    LibraryQuestion {
        key: "purpose",
        topic: "Purpose",
        prompt: "I understand how my work contributes to our goals.",
        kind: AGREE,
    },
    LibraryQuestion {
        key: "enps",
        topic: "eNPS",
        prompt: "How likely are you to recommend this workplace to a friend?",
        kind: LibraryKind::Enps,
    },
    LibraryQuestion {
        key: "open_feedback",
        topic: "Open feedback",
        prompt: "Is there anything else you would like to share?",
        kind: LibraryKind::Text,
    },
];

pub fn find(key: &str) -> Option<&'static LibraryQuestion> {
    QUESTIONS.iter().find(|q| q.key == key)
}
