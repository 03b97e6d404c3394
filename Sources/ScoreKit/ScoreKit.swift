// ScoreKit
